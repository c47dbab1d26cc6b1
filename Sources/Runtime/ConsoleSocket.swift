import Errors
import Glibc
import Linux
import OSKit

// --console-socket: a unix socket where the caller waits for the pty master.
enum ConsoleSocket {
    static func connect(_ path: String) throws -> Int32 {
        guard UnixSocket.fits(path) else {
            throw VesselError.invalidArgument("--console-socket: path \(path) is too long for a unix socket")
        }
        let fd: Int32
        do {
            fd = try UnixSocket.connect(path)
        } catch {
            throw VesselError.invalidArgument("--console-socket: cannot connect to \(path): \(error.reason)")
        }
        // The init inherits it across exec (its number is in the hand-off).
        _ = fcntl(fd, F_SETFD, 0)
        return fd
    }
}
