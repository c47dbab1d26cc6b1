import OCI

// The bundle's config.json as the guest runs it. Host paths mean nothing in
// the guest: the root filesystem and the directories of bind mounts travel
// as virtio-9p shares, mounted by the agent under /vm/<tag>; namespaces given
// by path become new ones (the host's cannot be joined from a VM); hooks
// stay on the host; the guest's cgroup is vessel's default.
public struct GuestSpec: Sendable {
    public let spec: Spec
    public let shares: [QemuCommand.Share]
    public let warnings: [String]

    /// microvm has eight virtio-mmio slots: one serial device, the rootfs.
    public static let maxBindShares = 6
    public static let sharesRoot = "/vm"

    public init(_ host: Spec, rootfs: String, isDirectory: (String) -> Bool) throws {
        var spec = host
        var warnings: [String] = []
        var shares = [QemuCommand.Share(tag: "rootfs", hostPath: rootfs, readOnly: false)]
        spec.root = Root(path: Self.sharesRoot + "/rootfs", readonly: host.root?.readonly)

        var mounts: [Mount] = []
        for (index, mount) in (host.mounts ?? []).enumerated() {
            let options = mount.options ?? []
            guard mount.type == "bind" || options.contains("bind") || options.contains("rbind"),
                  let source = mount.source, source.hasPrefix("/") else {
                mounts.append(mount)
                continue
            }
            if source.hasPrefix("/dev/") || source == "/dev" {
                warnings.append("mounts[\(index)]: host device \(source) is not passed into the VM; skipped")
                continue
            }
            // A file is shared through its directory (its siblings become
            // visible under /vm in the guest, not in the container).
            let directory = isDirectory(source) ? source : Self.parent(source)
            let name = isDirectory(source) ? "" : "/" + (source.split(separator: "/").last.map(String.init) ?? "")
            let tag: String
            if let existing = shares.first(where: { $0.hostPath == directory }) {
                tag = existing.tag
            } else {
                tag = "m\(shares.count)"
                guard shares.count <= Self.maxBindShares else {
                    throw VMError.config("mounts[\(index)]: at most \(Self.maxBindShares) host directories can be shared into the VM (\(source) would be one more)")
                }
                shares.append(QemuCommand.Share(tag: tag, hostPath: directory, readOnly: options.contains("ro")))
            }
            var guestMount = mount
            guestMount.source = Self.sharesRoot + "/" + tag + name
            mounts.append(guestMount)
        }
        spec.mounts = host.mounts == nil ? nil : mounts

        if var linux = spec.linux {
            linux.namespaces = linux.namespaces?.map { namespace in
                guard let path = namespace.path else { return namespace }
                warnings.append("linux.namespaces: \(namespace.type.rawValue) namespace \(path) is on the host; the container gets a new one in the VM")
                var fresh = namespace
                fresh.path = nil
                return fresh
            }
            linux.cgroupsPath = nil
            spec.linux = linux
        }
        let hooks = host.hooks
        if !(hooks?.createContainer ?? []).isEmpty || !(hooks?.startContainer ?? []).isEmpty {
            warnings.append("hooks.createContainer and hooks.startContainer run in the container's namespaces, which are in the VM: not run")
        }
        spec.hooks = nil
        self.spec = spec
        self.shares = shares
        self.warnings = warnings
    }

    static func parent(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }
}
