import Errors
import Glibc

// An exclusive flock(2) on a file of its own, waited for at most a while:
// two processes that would make the same thing (a VM template) take turns,
// and the second finds it made. The kernel drops the lock when its holder
// dies, so a crash never leaves it taken.
public final class FileLock {
    private let fd: Int32

    /// Creates the file if needed; throws when the lock is still taken
    /// after `timeoutSeconds`.
    public init(_ path: String, timeoutSeconds: Double) throws(VesselError) {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw VesselError.system("open \(path)") }
        let deadline = SystemClock.now() + timeoutSeconds
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR, SystemClock.now() < deadline else {
                let error =
                    errno == EWOULDBLOCK
                    ? VesselError.setup("\(path) is still locked after \(Int(timeoutSeconds)) s")
                    : VesselError.system("flock \(path)")
                close(fd)
                throw error
            }
            usleep(20_000)
        }
        self.fd = fd
    }

    deinit { close(fd) }
}
