import CVessel
import Glibc

// A new pty pair from /dev/ptmx. With `raw`, the slave passes bytes through
// untouched: the VM supervisor uses one to carry a guest terminal, whose
// own line discipline (in the guest) does the echo and editing.
public enum PseudoTerminal {
    public static func open(raw: Bool = false) throws(SystemError) -> (master: Int32, slave: Int32, name: String) {
        let master = Glibc.open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard master >= 0 else { throw SystemError("open /dev/ptmx") }
        let number = vessel_pty_unlock_and_number(master)
        guard number >= 0 else {
            let error = SystemError("unlock pty")
            close(master)
            throw error
        }
        let name = "/dev/pts/\(number)"
        let slave = Glibc.open(name, O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard slave >= 0 else {
            let error = SystemError("open \(name)")
            close(master)
            throw error
        }
        if raw {
            var settings = termios()
            if tcgetattr(slave, &settings) == 0 {
                cfmakeraw(&settings)
                _ = tcsetattr(slave, TCSANOW, &settings)
            }
        }
        return (master, slave, name)
    }

    /// Hands a pty master to a console socket (runc's --console-socket).
    public static func send(master: Int32, name: String, toConsoleSocket path: String) throws(SystemError) {
        let socket = try UnixSocket.connect(path)
        defer { close(socket) }
        try sys("send the pty to the console socket \(path)", vessel_send_fd(socket, master, name))
    }
}
