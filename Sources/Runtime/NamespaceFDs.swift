import CVessel
import Glibc
import Linux
import OCI

// Open descriptors for namespaces joined by path, in the order setns needs:
// the user namespace first (it grants the rights to join the others); the
// pid namespace apart, since only children enter it.
struct NamespaceFDs {
    var ordered: [Int32] = []
    var pid: Int32 = -1

    init(_ namespaces: [Namespace]) throws {
        let sorted = namespaces.filter { $0.path != nil }.sorted { lhs, _ in lhs.type == .user }
        for namespace in sorted {
            guard let path = namespace.path else { continue }
            // O_NONBLOCK: a FIFO given as the path would block the open
            // forever; setns then refuses what is not a namespace.
            let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
            guard fd >= 0 else {
                let err = SystemError("open").errno
                close()
                throw SetupError("config.json: linux.namespaces: cannot open the \(namespace.type.rawValue) namespace \(path): \(err)")
            }
            if namespace.type == .pid { pid = fd } else { ordered.append(fd) }
        }
    }

    mutating func close() {
        for fd in ordered { Glibc.close(fd) }
        if pid >= 0 { Glibc.close(pid) }
        ordered = []
        pid = -1
    }
}
