import Glibc
import Linux

// Copies a process's stdio between host fds and a slot's port sockets:
// host stdin to the guest until EOF (then hangs up, which the guest reads
// as EOF), guest stdout/stderr to host fds. Used by the VM supervisor for
// the container and by `exec`'s relay for each exec'd process.
public final class StdioRelay {
    var stdinSocket: Int32
    var hostStdin: Int32
    var outputs: [(socket: Int32, hostFD: Int32)]

    public init(stdinSocket: Int32, stdoutSocket: Int32, stderrSocket: Int32, host: (Int32, Int32, Int32) = (0, 1, 2)) {
        self.stdinSocket = stdinSocket
        hostStdin = host.0
        outputs = [(stdoutSocket, host.1), (stderrSocket, host.2)]
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
            outputs.remove(at: index)
            close(socket)
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
        close(stdinSocket)
        stdinSocket = -1
    }
}
