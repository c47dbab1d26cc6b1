import Glibc

/// Whole writes on blocking or non-blocking fds.
public enum FDIO {
    @discardableResult
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { writeAll(fd, $0) }
    }

    @discardableResult
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        var offset = 0
        while offset < bytes.count {
            // send() keeps SIGPIPE away on sockets; other fds take write(),
            // and so does a socket when send is refused outright (a seccomp
            // profile in force in the init may allow write but not sendmsg).
            let count = Glibc.send(fd, base + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            let refused = count < 0 && (errno == ENOTSOCK || errno == EPERM || errno == EACCES || errno == ENOSYS)
            let written = refused ? write(fd, base + offset, bytes.count - offset) : count
            if written < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN {
                    var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                    _ = poll(&poller, 1, 1000)
                    continue
                }
                return false
            }
            offset += written
        }
        return true
    }
}
