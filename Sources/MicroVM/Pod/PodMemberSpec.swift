import OCI

// A member's config.json as the guest runs it. Its root filesystem and bind
// mount sources become entries of the pod share (PodShare); the namespaces
// it shares with the sandbox are left for the agent to join in the guest;
// other namespaces given by path are on the host and become new ones, as
// in GuestSpec.
public struct PodMemberSpec: Sendable {
    public let spec: Spec
    public let joins: [NamespaceType]
    public let binds: [PodBind]
    public let warnings: [String]

    /// Namespaces a pod's containers share through its sandbox.
    public static let joinable: Set<NamespaceType> = [.network, .ipc, .uts, .pid]

    /// `sharedWithSandbox` says whether a namespace given by path is the
    /// sandbox's (CRI gives /proc/<sandbox pid>/ns/ipc, and the pod's
    /// network namespace by its own path).
    public init(
        _ host: Spec, id: String, rootfs: String, isDirectory: (String) -> Bool,
        sharedWithSandbox: (Namespace) -> Bool
    ) {
        var spec = host
        var warnings: [String] = []
        var binds = [PodBind(source: rootfs, name: "rootfs", isDirectory: true, field: "root.path")]
        spec.root = Root(path: PodShare.guestPath(member: id, "rootfs"), readonly: host.root?.readonly)

        var mounts: [Mount] = []
        for (index, mount) in (host.mounts ?? []).enumerated() {
            let source: String
            switch GuestSpec.hostBind(mount, index: index, warnings: &warnings) {
            case .other: mounts.append(mount); continue
            case .device: continue
            case let .source(path): source = path
            }
            let name = "m\(index)"
            binds.append(PodBind(source: source, name: name, isDirectory: isDirectory(source), field: "mounts[\(index)].source"))
            var guestMount = mount
            guestMount.source = PodShare.guestPath(member: id, name)
            mounts.append(guestMount)
        }
        spec.mounts = host.mounts == nil ? nil : mounts

        var joins: [NamespaceType] = []
        if var linux = spec.linux {
            linux.namespaces = linux.namespaces?.compactMap { namespace in
                guard let path = namespace.path else { return namespace }
                if Self.joinable.contains(namespace.type) && sharedWithSandbox(namespace) {
                    joins.append(namespace.type)
                    return nil
                }
                warnings.append("linux.namespaces: \(namespace.type.rawValue) namespace \(path) is on the host and not the pod sandbox's; the container gets a new one in the VM")
                return Namespace(type: namespace.type)
            }
            spec.linux = linux
        }
        GuestSpec.leaveHostOnlyParts(of: &spec, warnings: &warnings)
        self.spec = spec
        self.joins = joins
        self.binds = binds
        self.warnings = warnings
    }
}
