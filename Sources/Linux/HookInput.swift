import Glibc

/// The container state a hook gets on its stdin, written as the pipe takes
/// it (non-blocking, from the loop that waits for the hook), then closed: a
/// hook that never reads it, or one that fills its stdout first, cannot
/// hold the runtime in a write.
final class HookInput {
    private var fd: Int32
    private var bytes: [UInt8]
    private var written = 0

    init(fd: Int32, bytes: [UInt8]) {
        self.fd = fd
        self.bytes = bytes
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        if bytes.isEmpty { close() }
    }

    /// The pipe while bytes remain to write; -1 (which poll skips) after.
    var pendingFD: Int32 { fd }

    /// Writes what the pipe takes now; at the end, or when the hook has
    /// closed its end (EPIPE), the pipe closes.
    func writeAvailable() {
        guard fd >= 0 else { return }
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if count > 0 {
                written += count
                continue
            }
            if count < 0 && errno == EINTR { continue }
            if count < 0 && errno == EAGAIN { return }
            break  // EPIPE or another error: the hook reads no more
        }
        close()
    }

    /// Where there is no pidfd to poll with: as before, a blocking write.
    func writeBlocking() {
        guard fd >= 0 else { return }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        writeAvailable()
    }

    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }
}
