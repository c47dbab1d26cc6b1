import Errors
import CVessel
import Glibc
import Linux
import OSKit
import OCI

// Open descriptors for namespaces joined by path, in the order setns needs:
// the user namespace first (it grants the rights to join the others); the
// pid namespace apart, since only children enter it. Each file is checked to
// be a namespace of the type the config names (NS_GET_NSTYPE) before
// anything is joined: `{"type": "ipc", "path": "/proc/self/ns/mnt"}` would
// otherwise join, and then pivot_root, the caller's mount namespace.
struct NamespaceFDs {
    var ordered: [(fd: Int32, type: Int32)] = []
    var pid: Int32 = -1

    init(_ namespaces: [Namespace]) throws {
        let indexed = namespaces.enumerated().filter { $0.element.path != nil }
        let sorted = indexed.filter { $0.element.type == .user } + indexed.filter { $0.element.type != .user }
        do {
            for (index, namespace) in sorted {
                guard let path = namespace.path else { continue }
                let fd = try Self.open(path, as: namespace.type, field: "linux.namespaces[\(index)].path")
                if namespace.type == .pid { pid = fd } else { ordered.append((fd, namespace.type.cloneFlag)) }
            }
        } catch {
            close()
            throw error
        }
    }

    static func open(_ path: String, as type: NamespaceType, field: String) throws -> Int32 {
        // O_NONBLOCK: a FIFO given as the path would block the open forever;
        // NS_GET_NSTYPE then refuses what is not a namespace.
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else {
            throw VesselError.setup("config.json: \(field): cannot open the \(type.rawValue) namespace \(path): \(VesselError.system("open").reason)")
        }
        let actual = vessel_namespace_type(fd)
        guard actual == type.cloneFlag else {
            Glibc.close(fd)
            let what = actual < 0 ? "not a namespace file" : "a \(NamespaceType(cloneFlag: actual)?.rawValue ?? "unknown") namespace"
            throw VesselError.setup("config.json: \(field): \(path) is \(what), not \(type.rawValue)")
        }
        return fd
    }

    mutating func close() {
        for entry in ordered { Glibc.close(entry.fd) }
        if pid >= 0 { Glibc.close(pid) }
        ordered = []
        pid = -1
    }
}
