import Glibc

/// A hook's stdout and stderr, read from two pipes while it runs and kept
/// (the first `limit` bytes of each) for the error line if it fails, as
/// runc keeps them.
final class HookOutput {
    static let limit = 4096
    private var fds: [Int32]
    private var kept: [[UInt8]] = [[], []]

    init(stdout: Int32, stderr: Int32) {
        fds = [stdout, stderr]
    }

    /// The pipes not yet at their end.
    var openFDs: [Int32] { fds.filter { $0 >= 0 } }

    /// Reads what `fd` has now; at its end (or an error) the pipe closes.
    /// Returns whether it read bytes.
    @discardableResult
    func read(_ fd: Int32) -> Bool {
        guard let index = fds.firstIndex(of: fd) else { return false }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        if count < 0 && (errno == EINTR || errno == EAGAIN) { return false }
        guard count > 0 else {
            Glibc.close(fd)
            fds[index] = -1
            return false
        }
        kept[index] += buffer.prefix(min(count, Self.limit - kept[index].count))
        return true
    }

    /// Reads until both pipes end (a hook without a pidfd to wait on).
    func readToEnd() {
        while let fd = openFDs.first { read(fd) }
    }

    /// Once the hook has exited: what is already in the pipes, without
    /// waiting for a process it left behind that still holds them.
    func drainWithoutWaiting() {
        // A pipe holds 64 KiB by default: 16 reads of 4 KiB take what was
        // there when the hook exited, and a process it left behind writing
        // on cannot keep us here.
        for fd in openFDs {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            var reads = 0
            while reads < 16, read(fd) { reads += 1 }
        }
    }

    func close() {
        openFDs.forEach { Glibc.close($0) }
        fds = [-1, -1]
    }

    /// `, stdout: "…", stderr: "…"` for the streams that said something.
    var described: String {
        zip(["stdout", "stderr"], kept).filter { !$0.1.isEmpty }.map { name, bytes in
            ", \(name): \"\(Self.escaped(String(decoding: bytes, as: UTF8.self)))\""
        }.joined()
    }

    /// One line: newlines, tabs and other control characters escaped.
    static func escaped(_ text: String) -> String {
        text.unicodeScalars.map { scalar in
            switch scalar {
            case "\n": return "\\n"
            case "\t": return "\\t"
            case "\"": return "\\\""
            case "\\": return "\\\\"
            default:
                guard scalar.value < 0x20 || scalar.value == 0x7f else { return String(scalar) }
                let hex = String(scalar.value, radix: 16)
                return "\\x" + (hex.count < 2 ? "0" + hex : hex)
            }
        }.joined()
    }
}
