import Errors
import OCI

// The bundle's config.json as the guest runs it. Host paths mean nothing in
// the guest: the root filesystem and the directories of bind mounts travel
// as virtio-9p shares, mounted by the agent under /vm/<tag>; namespaces given
// by path become new ones (the host's cannot be joined from a VM), an
// engine's network namespace with its interfaces carried in; hooks
// stay on the host; the guest's cgroup is vessel's default.
public struct GuestSpec: Sendable {
    public let spec: Spec
    public let shares: [QemuCommand.Share]
    public let warnings: [String]
    /// Whether the workload gets the VM's network on QEMU's user-mode NAT (see `init`).
    public let network: Bool
    /// The engine's network namespace (given by path) whose interfaces the
    /// VM carries (see `init`); nil when there is none.
    public let engineNetworkNamespace: String?

    /// microvm has eight virtio-mmio slots: the serial device, the network
    /// device and the rootfs take three.
    public static let maxBindShares = 5
    /// microvm's virtio-mmio transports (QEMU's VIRTIO_NUM_TRANSPORTS).
    public static let mmioSlots = 8
    public static let sharesRoot = "/vm"
    public static let networkAnnotation = "org.vessel.vm.network"

    /// `isEngineNamespace` says whether a network namespace path is one the
    /// VM may carry: an engine's, not the runtime's own (the host's).
    /// `podDirectory`: a pod sandbox's, shared as PodShare.tag for the
    /// pod's later containers (taking one of the slots binds could use).
    public init(
        _ host: Spec, rootfs: String, isDirectory: (String) -> Bool,
        isEngineNamespace: (String) -> Bool = { _ in false }, podDirectory: String? = nil
    ) throws {
        var spec = host
        var warnings: [String] = []
        var shares = [QemuCommand.Share(tag: Self.shareTag(0), hostPath: rootfs, readOnly: false)]
        spec.root = Root(path: Self.sharesRoot + "/rootfs", readonly: host.root?.readonly)

        let maxBindShares = Self.maxBindShares - (podDirectory == nil ? 0 : 1)
        var mounts: [Mount] = []
        for (index, mount) in (host.mounts ?? []).enumerated() {
            let options = mount.options ?? []
            let source: String
            switch Self.hostBind(mount, index: index, warnings: &warnings) {
            case .other: mounts.append(mount); continue
            case .device: continue
            case let .source(path): source = path
            }
            // A file is shared through its directory (its siblings become
            // visible under /vm in the guest, not in the container).
            let directory = isDirectory(source) ? source : Self.parent(source)
            let name = isDirectory(source) ? "" : "/" + (source.split(separator: "/").last.map(String.init) ?? "")
            let tag: String
            if let existing = shares.first(where: { $0.hostPath == directory }) {
                tag = existing.tag
            } else {
                tag = Self.shareTag(shares.count)
                guard shares.count <= maxBindShares else {
                    throw VesselError.vmConfig("mounts[\(index)]: at most \(maxBindShares) host directories can be shared into the VM (\(source) would be one more)")
                }
                shares.append(QemuCommand.Share(tag: tag, hostPath: directory, readOnly: options.contains("ro")))
            }
            var guestMount = mount
            guestMount.source = Self.sharesRoot + "/" + tag + name
            mounts.append(guestMount)
        }
        spec.mounts = host.mounts == nil ? nil : mounts

        // The VM gets a NIC only when asked (annotation org.vessel.vm.network
        // = nat) and the bundle wants connectivity: a network namespace given
        // by path (an engine's) or none at all (the host's network). The
        // container then shares the guest's network, served by QEMU's
        // user-mode NAT, whose gateway reaches the host's loopback: hence
        // opt-in. A new, empty network namespace stays empty.
        let networkNamespace = host.linux?.namespaces?.first { $0.type == .network }
        let network =
            host.annotations?[Self.networkAnnotation] == "nat"
            && (networkNamespace == nil || networkNamespace?.path != nil)
        // Otherwise an engine's namespace (given by path, not the runtime's
        // own) is carried into the VM: its interfaces become the guest's
        // (TapMirror), which the agent moves into the container's network
        // namespace (GuestNetwork).
        let engineNamespace = network ? nil : networkNamespace?.path.flatMap { isEngineNamespace($0) ? $0 : nil }
        if var linux = spec.linux {
            linux.namespaces = linux.namespaces?.compactMap { namespace in
                guard let path = namespace.path else { return namespace }
                if namespace.type == .network && network {
                    warnings.append("linux.namespaces: network namespace \(path) is on the host; the container uses the VM's network (QEMU user-mode NAT)")
                    return nil
                }
                if namespace.type == .network && engineNamespace != nil {
                    // A new one in the guest, where the agent moves the
                    // engine's interfaces (linux.netDevices) and sets them up.
                    var fresh = namespace
                    fresh.path = nil
                    return fresh
                }
                warnings.append("linux.namespaces: \(namespace.type.rawValue) namespace \(path) is on the host; the container gets a new one in the VM")
                var fresh = namespace
                fresh.path = nil
                return fresh
            }
            spec.linux = linux
        }
        Self.leaveHostOnlyParts(of: &spec, warnings: &warnings)
        if let podDirectory { shares.append(QemuCommand.Share(tag: PodShare.tag, hostPath: podDirectory, readOnly: false)) }
        self.spec = spec
        self.shares = shares
        self.warnings = warnings
        self.network = network
        engineNetworkNamespace = engineNamespace
    }

    /// What a mount of config.json is to a VM.
    enum HostBind {
        /// A bind of this host path: shared into the guest. (Bidirectional
        /// propagation stops at the VM: a warning says so.)
        case source(String)
        /// A bind of a host device, which a VM cannot take: skipped, with a warning.
        case device
        /// Anything else: kept as it is.
        case other
    }

    static func hostBind(_ mount: Mount, index: Int, warnings: inout [String]) -> HostBind {
        let options = mount.options ?? []
        guard mount.type == "bind" || options.contains("bind") || options.contains("rbind"),
            let source = mount.source, source.hasPrefix("/")
        else { return .other }
        if source.hasPrefix("/dev/") || source == "/dev" {
            warnings.append("mounts[\(index)]: host device \(source) is not passed into the VM; skipped")
            return .device
        }
        if options.contains("rshared") || options.contains("shared") {
            warnings.append("mounts[\(index)]: \(mount.destination): bidirectional propagation stops at the VM: mounts made in the container stay in the guest")
        }
        return .source(source)
    }

    /// Hooks run on the host (createContainer and startContainer, which
    /// would run in the container's namespaces, cannot), and the guest's
    /// cgroup is vessel's default there.
    static func leaveHostOnlyParts(of spec: inout Spec, warnings: inout [String]) {
        let hooks = spec.hooks
        if !(hooks?.createContainer ?? []).isEmpty || !(hooks?.startContainer ?? []).isEmpty {
            warnings.append("hooks.createContainer and hooks.startContainer run in the container's namespaces, which are in the VM: not run")
        }
        spec.hooks = nil
        spec.linux?.cgroupsPath = nil
    }

    /// The mount tag of the share at `index`: the rootfs, then m1... (a
    /// template's shares have the same tags: they are part of its key).
    public static func shareTag(_ index: Int) -> String { index == 0 ? "rootfs" : "m\(index)" }

    static func parent(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }
}
