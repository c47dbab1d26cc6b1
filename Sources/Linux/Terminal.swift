import OSKit
import Errors
import CVessel
import Glibc
import OCI

enum Terminal {
    /// As runc: every process that enters a container (init or exec'd)
    /// leads a new session and process group, so nothing of the caller's
    /// session (its terminal's signals, its job control) reaches into the
    /// container, and a terminal can become its controlling one.
    static func newSession() throws {
        // EPERM: already a process group leader, fine if it leads its
        // session too (a spawn that made the session).
        if setsid() < 0 && getsid(0) != getpid() { throw VesselError.system("setsid") }
    }

    /// A new pty: the master goes to the console socket, the slave becomes
    /// our controlling terminal and stdio.
    static func attach(consoleFD: Int32, size: ConsoleSize?) throws {
        guard consoleFD >= 0 else {
            throw VesselError.setup("process.terminal is true but no --console-socket was given")
        }
        let (master, slave, name) = try PseudoTerminal.open()
        if let size { _ = vessel_set_winsize(master, size.height, size.width) }
        try sys("send the pty to the console socket", vessel_send_fd(consoleFD, master, name))
        Glibc.close(master)
        Glibc.close(consoleFD)
        // The caller leads a session of its own already (newSession).
        try sys("set controlling terminal", vessel_set_ctty(slave))
        for target in Int32(0)...2 { try sys("dup pty", dup2(slave, target)) }
        if slave > 2 { Glibc.close(slave) }
    }

}
