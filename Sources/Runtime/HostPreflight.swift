import Errors
import Glibc
import Linux
import OSKit
import OCI

// Checks of a bundle against this host that must fail `create` before
// anything is made: what the init would otherwise only find out later, or
// what would reach past the container.
enum HostPreflight {
    static func check(_ spec: Spec) throws {
        try checkMountOptions(spec.mounts ?? [])
        try checkCapabilities(spec.process?.capabilities)
        try checkSysctlNamespaces(spec.linux ?? LinuxConfig())
        try checkHostnameNamespace(spec)
        try RootlessPreflight.check(spec)
        if let refusal = SecurityModules.unsupported(in: spec) { throw VesselError.setup(refusal) }
        if spec.linux?.intelRdt != nil {
            let reason =
                FileIO.isDirectory("/sys/fs/resctrl/info")
                ? "Intel RDT (resctrl) is not implemented in vessel"
                : "resctrl is not mounted at /sys/fs/resctrl on this host"
            throw VesselError.invalidValue(field: "linux.intelRdt", reason: reason)
        }
        if let netns = spec.linux?.namespaces?.first(where: { $0.type == .network }), let path = netns.path,
            !(spec.linux?.netDevices ?? [:]).isEmpty, sameFile(path, "/proc/self/ns/net")
        {
            throw VesselError.invalidValue(field: "linux.netDevices", reason: "the network namespace \(path) is the host's own")
        }
    }

    /// A bind mount takes flags only: an option vessel does not know would
    /// otherwise vanish (binds ignore filesystem data) and the volume would
    /// be mounted without what the config asked for.
    static func checkMountOptions(_ mounts: [Mount]) throws {
        for (index, entry) in mounts.enumerated() {
            let unknown = MountOptions(entry.options ?? [], type: entry.type).unknownForBind
            guard unknown.isEmpty else {
                throw VesselError.invalidValue(
                    field: "mounts[\(index)].options",
                    reason: "unknown option\(unknown.count == 1 ? "" : "s") for a bind mount: \(unknown.joined(separator: ", "))")
            }
        }
    }

    /// A capability outside vessel's own bounding set cannot be granted
    /// (capset fails); say which, instead of a bare EPERM.
    static func checkCapabilities(_ capabilities: Capabilities?) throws {
        guard let capabilities, let bounding = CapabilitySet.currentBounding() else { return }
        let requested = [
            ("effective", capabilities.effective), ("permitted", capabilities.permitted),
            ("inheritable", capabilities.inheritable), ("ambient", capabilities.ambient),
        ]
        for (set, names) in requested {
            let missing = (names ?? []).filter { name in
                CapabilitySet.number(of: name).map { bounding & (1 << UInt64($0)) == 0 } ?? false
            }
            if !missing.isEmpty {
                throw VesselError.invalidValue(
                    field: "process.capabilities.\(set)",
                    reason: "\(missing.joined(separator: ", ")) not in this host's bounding set: vessel cannot grant it")
            }
        }
    }

    /// A sysctl is allowed only in a namespace the container owns
    /// (SpecValidator); one joined by path must not be the host's own.
    static func checkSysctlNamespaces(_ linux: LinuxConfig) throws {
        let namespaces = linux.namespaces ?? []
        for key in (linux.sysctl ?? [:]).keys.sorted() {
            guard let type = SpecValidator.sysctlNamespace(key),
                let index = namespaces.firstIndex(where: { $0.type == type }),
                let path = namespaces[index].path
            else { continue }
            if sameFile(path, "/proc/self/ns/\(type.procName)") {
                throw VesselError.invalidValue(
                    field: "linux.sysctl.\(key)",
                    reason: "linux.namespaces[\(index)].path \(path) is the host's \(type.rawValue) namespace")
            }
        }
    }

    /// A hostname or domainname set in a uts namespace joined by path must
    /// not be set in the host's own.
    static func checkHostnameNamespace(_ spec: Spec) throws {
        guard !(spec.hostname ?? "").isEmpty || !(spec.domainname ?? "").isEmpty else { return }
        let namespaces = spec.linux?.namespaces ?? []
        guard let index = namespaces.firstIndex(where: { $0.type == .uts }), let path = namespaces[index].path else { return }
        if sameFile(path, "/proc/self/ns/uts") {
            throw VesselError.invalidValue(
                field: (spec.hostname ?? "").isEmpty ? "domainname" : "hostname",
                reason: "linux.namespaces[\(index)].path \(path) is the host's uts namespace")
        }
    }

    static func sameFile(_ lhs: String, _ rhs: String) -> Bool {
        var left = stat(), right = stat()
        guard stat(lhs, &left) == 0, stat(rhs, &right) == 0 else { return false }
        return left.st_dev == right.st_dev && left.st_ino == right.st_ino
    }
}
