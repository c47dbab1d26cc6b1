import OSKit
import OCI

// The kernel's view of a namespace type: its CLONE_NEW* flag (what clone3,
// unshare and setns take, and what NS_GET_NSTYPE answers) and the name of
// its file under /proc/<pid>/ns.
extension NamespaceType {
    public var cloneFlag: Int32 {
        switch self {
        case .pid: return 0x2000_0000
        case .network: return 0x4000_0000
        case .mount: return 0x0002_0000
        case .ipc: return 0x0800_0000
        case .uts: return 0x0400_0000
        case .user: return 0x1000_0000
        case .cgroup: return 0x0200_0000
        case .time: return 0x80
        }
    }

    public var procName: String {
        switch self {
        case .network: return "net"
        case .mount: return "mnt"
        default: return rawValue
        }
    }

    public init?(cloneFlag: Int32) {
        guard let type = Self.allCases.first(where: { $0.cloneFlag == cloneFlag }) else { return nil }
        self = type
    }
}

extension Array where Element == IDMapping {
    /// The text a /proc/<pid>/uid_map or gid_map takes: one
    /// "inside outside count" line per mapping.
    public var procMapText: String { map { "\($0.containerID) \($0.hostID) \($0.size)\n" }.joined() }
}
