import Errors
import Glibc

// Stream unix sockets by path: the console socket, the VM supervisor's
// control socket and QEMU's chardev sockets.
public enum UnixSocket {
    public static func connect(_ path: String) throws(VesselError) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw VesselError.system("socket") }
        let rc = withAddress(path) { Glibc.connect(fd, $0, $1) }
        if rc != 0 {
            let error = VesselError.system("connect \(path)")
            close(fd)
            throw error
        }
        return fd
    }

    public static func listen(_ path: String) throws(VesselError) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw VesselError.system("socket") }
        unlink(path)
        if withAddress(path, { bind(fd, $0, $1) }) != 0 || Glibc.listen(fd, 16) != 0 {
            let error = VesselError.system("listen on \(path)")
            close(fd)
            throw error
        }
        return fd
    }

    /// Whether the path fits sockaddr_un (108 bytes with the NUL).
    public static func fits(_ path: String) -> Bool {
        path.utf8.count < MemoryLayout.size(ofValue: sockaddr_un().sun_path)
    }

    private static func withAddress(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Int32 {
        guard fits(path) else {
            errno = ENAMETOOLONG
            return -1
        }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
        }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }
}
