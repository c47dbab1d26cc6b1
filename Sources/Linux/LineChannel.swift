import Glibc

// Newline-delimited messages over a stream fd (the VM's control port and
// the supervisor's socket). Reads are buffered so one read may yield
// several lines; writes retry until the whole line is out.
public final class LineChannel {
    public let fd: Int32
    private var buffer: [UInt8] = []
    private var lines: [String] = []
    public private(set) var closed = false

    public init(fd: Int32) { self.fd = fd }

    /// Writes one line; false when the peer is gone.
    @discardableResult
    public func send(_ line: String) -> Bool {
        var bytes = Array(line.utf8)
        bytes.append(UInt8(ascii: "\n"))
        return FDIO.writeAll(fd, bytes)
    }

    /// Reads what is available (one read call) and queues complete lines.
    /// Marks the channel closed at EOF or on an error.
    public func fill() {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count < 0 && (errno == EINTR || errno == EAGAIN) { return }
        if count <= 0 {
            closed = true
            return
        }
        buffer.append(contentsOf: chunk[0..<count])
        while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
            lines.append(String(decoding: buffer[..<newline], as: UTF8.self))
            buffer.removeSubrange(...newline)
        }
    }

    /// The next queued line, if any.
    public func next() -> String? {
        lines.isEmpty ? nil : lines.removeFirst()
    }

    /// Blocks until one line arrives or `timeoutMilliseconds` pass (nil then).
    public func receive(timeoutMilliseconds: Int32) -> String? {
        while true {
            if let line = next() { return line }
            if closed { return nil }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, timeoutMilliseconds)
            if ready == 0 { return nil }
            if ready < 0 && errno != EINTR { return nil }
            if ready > 0 { fill() }
        }
    }
}
