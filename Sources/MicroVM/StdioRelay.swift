import Glibc
import OSKit

// Copies a process's stdio between host fds and a slot's port sockets:
// host stdin to the guest until EOF (then hangs up, which the guest reads
// as EOF), guest stdout/stderr to host fds. Used by the VM supervisor for
// the container and by `exec`'s relay for each exec'd process.
public final class StdioRelay {
    var stdinSocket: Int32
    var hostStdin: Int32
    var outputs: [(socket: Int32, hostFD: Int32)]
    /// For a terminal: the host pty and the size last sent to the guest.
    var terminal: Int32 = -1
    var lastSize: (rows: UInt16, columns: UInt16)?

    /// Bytes read from `input.from` go to `input.to` until EOF; bytes read
    /// from each output's `from` go to its `to`.
    public init(input: (from: Int32, to: Int32), outputs: [(from: Int32, to: Int32)]) {
        hostStdin = input.from
        stdinSocket = input.to
        self.outputs = outputs.map { ($0.from, $0.to) }
    }

    /// A process's three streams: host fds 0-2 and the slot's sockets.
    public convenience init(stdinSocket: Int32, stdoutSocket: Int32, stderrSocket: Int32) {
        self.init(input: (0, stdinSocket), outputs: [(stdoutSocket, 1), (stderrSocket, 2)])
    }

    /// A terminal: one pty fd both ways, the slot's in and out sockets.
    public convenience init(terminal: Int32, stdinSocket: Int32, stdoutSocket: Int32) {
        self.init(input: (terminal, stdinSocket), outputs: [(stdoutSocket, terminal)])
        self.terminal = terminal
    }

    /// Whether this relay carries a terminal, whose size is to be watched.
    public var isTerminal: Bool { terminal >= 0 }

    /// The terminal's new size, if it changed since the last call (the
    /// engine resizes the pty master it holds; the guest's pty must follow).
    public func resized() -> (rows: UInt16, columns: UInt16)? {
        guard terminal >= 0, let size = PseudoTerminal.size(terminal), size.rows > 0 else { return nil }
        if let last = lastSize, last == size { return nil }
        lastSize = size
        return size
    }

    /// The resize for the agent, if the terminal's size changed.
    public func resizeCommand(slot: Int) -> ContainerCommand? {
        guard let size = resized() else { return nil }
        return .resize(slot: slot, rows: size.rows, columns: size.columns)
    }

    /// The fds the relay still uses and would close at EOF.
    public var ownedFDs: Set<Int32> {
        Set([stdinSocket] + outputs.map(\.socket)).subtracting([-1])
    }

    /// The fds to poll for input, in a fixed order for `handle`.
    public var pollFDs: [pollfd] {
        [pollfd(fd: stdinSocket >= 0 ? hostStdin : -1, events: Int16(POLLIN), revents: 0)]
            + outputs.map { pollfd(fd: $0.socket, events: Int16(POLLIN), revents: 0) }
    }

    /// Acts on the revents of `pollFDs` (same order).
    public func handle(_ polled: ArraySlice<pollfd>) {
        let sockets = outputs.map(\.socket)
        if let first = polled.first, first.revents != 0 { relayStdin() }
        for (index, socket) in sockets.enumerated() where polled.dropFirst().dropFirst(index).first.map({ $0.revents != 0 }) ?? false {
            copyOutput(socket)
        }
    }

    /// Copies whatever output is already buffered; true if it moved bytes.
    @discardableResult
    public func drain() -> Bool {
        var moved = false
        for socket in outputs.map(\.socket) {
            var poller = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            if poll(&poller, 1, 0) > 0 { moved = copyOutput(socket) || moved }
        }
        return moved
    }

    @discardableResult
    private func copyOutput(_ socket: Int32) -> Bool {
        guard let index = outputs.firstIndex(where: { $0.socket == socket }) else { return false }
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = buffer.withUnsafeMutableBytes { read(socket, $0.baseAddress, $0.count) }
        if count > 0 {
            _ = buffer.withUnsafeBytes { FDIO.writeAll(outputs[index].hostFD, UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            return true
        }
        if count == 0 || (errno != EINTR && errno != EAGAIN) {
            // EOF, or EIO from a pty whose other end closed.
            outputs.remove(at: index)
            if socket != stdinSocket { close(socket) }
        }
        return false
    }

    private func relayStdin() {
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = buffer.withUnsafeMutableBytes { read(hostStdin, $0.baseAddress, $0.count) }
        if count < 0 && (errno == EINTR || errno == EAGAIN) { return }
        if count > 0, buffer.withUnsafeBytes({ FDIO.writeAll(stdinSocket, UnsafeRawBufferPointer(rebasing: $0[0..<count])) }) {
            return
        }
        closeStdin()
    }

    public func closeStdin() {
        guard stdinSocket >= 0 else { return }
        // A pty master is both the input's target and an output's source.
        if !outputs.contains(where: { $0.socket == stdinSocket }) { close(stdinSocket) }
        stdinSocket = -1
    }

    /// The relay for a slot's process: its three streams to our fds 0-2, or
    /// with a console socket, a new pty (master sent there) to its in and out.
    public static func forSlot(_ slot: Int, consoleSocket: String?, connect: (String) throws -> Int32) throws -> StdioRelay {
        let input = try connect(GuestPorts.name(slot: slot, .stdin))
        let output = try connect(GuestPorts.name(slot: slot, .stdout))
        guard let consoleSocket else {
            return StdioRelay(stdinSocket: input, stdoutSocket: output, stderrSocket: try connect(GuestPorts.name(slot: slot, .stderr)))
        }
        let pty = try PseudoTerminal.open(raw: true)
        defer { close(pty.master) }
        try PseudoTerminal.send(master: pty.master, name: pty.name, toConsoleSocket: consoleSocket)
        return StdioRelay(terminal: pty.slave, stdinSocket: input, stdoutSocket: output)
    }
}
