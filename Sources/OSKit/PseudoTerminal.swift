import Errors
import CVessel
import Glibc

// A new pty pair from /dev/ptmx. With `raw`, the slave passes bytes through
// untouched: the VM supervisor uses one to carry a guest terminal, whose
// own line discipline (in the guest) does the echo and editing.
public enum PseudoTerminal {
    public static func open(raw: Bool = false) throws(VesselError) -> (master: Int32, slave: Int32, name: String) {
        let master = Glibc.open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard master >= 0 else { throw VesselError.system("open /dev/ptmx") }
        let number = vessel_pty_unlock_and_number(master)
        guard number >= 0 else {
            let error = VesselError.system("unlock pty")
            close(master)
            throw error
        }
        let name = "/dev/pts/\(number)"
        let slave = Glibc.open(name, O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard slave >= 0 else {
            let error = VesselError.system("open \(name)")
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
    public static func send(master: Int32, name: String, toConsoleSocket path: String) throws(VesselError) {
        let socket = try UnixSocket.connect(path)
        defer { close(socket) }
        try sys("send the pty to the console socket \(path)", vessel_send_fd(socket, master, name))
    }

    /// The terminal's size as (rows, columns), nil if it is not a terminal.
    public static func size(_ fd: Int32) -> (rows: UInt16, columns: UInt16)? {
        var size = winsize()
        let rc = withUnsafeMutablePointer(to: &size) { ioctl(fd, UInt(TIOCGWINSZ), $0) }
        return rc == 0 ? (size.ws_row, size.ws_col) : nil
    }

    public static func setSize(_ fd: Int32, rows: UInt16, columns: UInt16) {
        var size = winsize(ws_row: rows, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
        _ = withUnsafeMutablePointer(to: &size) { ioctl(fd, UInt(TIOCSWINSZ), $0) }
    }
}
