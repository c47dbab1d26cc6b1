import Errors
import CVessel
import Glibc
import Linux
import OSKit

// A terminal for `run` and `exec -t` without --console-socket, as runc
// gives one: vessel is its own console socket (a listening socket in a
// private temporary directory, which the container's init connects to and
// sends the pty master over, before `create` or `exec` returns), then
// relays the caller's terminal to the pty until the process exits.
public final class TerminalSession {
    let directory: String
    let listener: Int32
    public var socketPath: String { directory + "/console.sock" }

    public init() throws {
        var template = Array("/tmp/vessel-console-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw VesselError.system("mkdtemp for the console socket") }
        directory = String(cString: made)
        do {
            listener = try UnixSocket.listen(directory + "/console.sock")
        } catch {
            rmdir(directory)
            throw error
        }
    }

    deinit {
        close(listener)
        unlink(socketPath)
        rmdir(directory)
    }

    /// The pty master the container's init sent (already queued: it connects
    /// and sends before it reports ready).
    public func receiveMaster(timeoutMilliseconds: Int32 = 10_000) throws -> Int32 {
        var poller = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, timeoutMilliseconds) > 0 else {
            throw VesselError.initFailed("terminal: the container did not send its pty")
        }
        let connection = accept(listener, nil, nil)
        guard connection >= 0 else { throw VesselError.system("accept on the console socket") }
        _ = fcntl(connection, F_SETFD, FD_CLOEXEC)
        defer { close(connection) }
        let master = vessel_recv_fd(connection)
        guard master >= 0 else { throw VesselError.system("receive the pty master") }
        return master
    }

    /// Relays stdin → master and master → stdout, with the caller's terminal
    /// in raw mode and its size passed on, until `pid` exits; then restores
    /// the terminal. Returns once the process's output is drained.
    public func relay(master: Int32, until pid: pid_t) {
        defer { close(master) }
        let restore = RawMode(fd: STDIN_FILENO)
        defer { restore?.restore() }
        copyWindowSize(to: master)
        let winch = (try? SignalFD.block([SIGWINCH])) ?? -1
        defer { if winch >= 0 { close(winch) } }
        let pidfd = vessel_pidfd_open(pid)
        defer { if pidfd >= 0 { close(pidfd) } }
        var stdinOpen = true
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            var fds = [
                pollfd(fd: master, events: Int16(POLLIN), revents: 0),
                pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0),
                pollfd(fd: winch, events: Int16(POLLIN), revents: 0),
                pollfd(fd: stdinOpen ? STDIN_FILENO : -1, events: Int16(POLLIN), revents: 0),
            ]
            if poll(&fds, nfds_t(fds.count), -1) < 0 {
                if errno == EINTR { continue }
                return
            }
            if fds[0].revents != 0 && !copy(from: master, to: STDOUT_FILENO, &buffer) { return }
            if fds[2].revents != 0 {
                _ = SignalFD.drain(winch)
                copyWindowSize(to: master)
            }
            if fds[3].revents != 0 && !copy(from: STDIN_FILENO, to: master, &buffer) { stdinOpen = false }
            if fds[1].revents != 0 {
                // Exited: what it wrote last is still in the pty.
                _ = fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK)
                while copy(from: master, to: STDOUT_FILENO, &buffer) {}
                return
            }
        }
    }

    /// One read and its whole write; false at EOF, EIO (no slave left) or an error.
    private func copy(from source: Int32, to target: Int32, _ buffer: inout [UInt8]) -> Bool {
        let count = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
        if count < 0 && errno == EINTR { return true }
        guard count > 0 else { return false }
        return FDIO.writeAll(target, Array(buffer[0..<count]))
    }

    private func copyWindowSize(to master: Int32) {
        guard let size = PseudoTerminal.size(STDIN_FILENO) else { return }
        PseudoTerminal.setSize(master, rows: size.rows, columns: size.columns)
    }
}

/// The caller's terminal in raw mode, and back.
struct RawMode {
    let fd: Int32
    let saved: termios

    init?(fd: Int32) {
        guard isatty(fd) == 1 else { return nil }
        var settings = termios()
        guard tcgetattr(fd, &settings) == 0 else { return nil }
        self.fd = fd
        saved = settings
        cfmakeraw(&settings)
        _ = tcsetattr(fd, TCSANOW, &settings)
    }

    func restore() {
        var settings = saved
        _ = tcsetattr(fd, TCSANOW, &settings)
    }
}
