import CVessel
import Glibc
import OCI

enum Terminal {
    /// A new pty: the master goes to the console socket, the slave becomes
    /// our controlling terminal and stdio.
    static func attach(consoleFD: Int32, size: ConsoleSize?) throws {
        guard consoleFD >= 0 else {
            throw SetupError("process.terminal is true but no --console-socket was given")
        }
        let master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard master >= 0 else { throw SystemError("open /dev/ptmx") }
        let number = vessel_pty_unlock_and_number(master)
        guard number >= 0 else { throw SystemError("unlock pty") }
        let slave = open("/dev/pts/\(number)", O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard slave >= 0 else { throw SystemError("open /dev/pts/\(number)") }
        if let size { _ = vessel_set_winsize(master, size.height, size.width) }
        try sys("send the pty to the console socket", vessel_send_fd(consoleFD, master, "/dev/pts/\(number)"))
        Glibc.close(master)
        Glibc.close(consoleFD)
        _ = setsid()
        try sys("set controlling terminal", vessel_set_ctty(slave))
        for target in Int32(0)...2 { try sys("dup pty", dup2(slave, target)) }
        if slave > 2 { Glibc.close(slave) }
    }

}
