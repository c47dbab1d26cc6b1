import Errors
import Glibc
import OSKit

/// exec --exec-wait-fifo: the fifo, opened O_PATH without close-on-exec so
/// the exec'd process inherits it (ExecPlan.waitFifoFD); anything else at
/// the path is refused in runc's words, which its tests match on.
enum ExecWaitFifo {
    static func open(_ path: String) throws -> Int32 {
        let fd = Glibc.open(path, 0o10000000 /* O_PATH */)
        guard fd >= 0 else { throw VesselError.system("failed to open exec wait fifo \(path)") }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFIFO else {
            close(fd)
            throw VesselError.invalidArgument("--exec-wait-fifo: \(path) is not a fifo")
        }
        return fd
    }
}
