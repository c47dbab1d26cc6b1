import Glibc

// The parent<->init socketpair (SOCK_SEQPACKET: one message per send).
// Messages are short words, an error carries its one-line text.
public enum InitMessage: Equatable {
    case mounted          // init -> parent: runtime hooks may run now
    case proceed(String)  // parent -> init: carries the state JSON for hooks
    case ready            // init -> parent: set-up done, waiting for start
    case failed(String)   // init -> parent: one line saying what went wrong

    var encoded: String {
        switch self {
        case .mounted: return "mounted"
        case let .proceed(state): return "proceed " + state
        case .ready: return "ready"
        case let .failed(text): return "failed " + text
        }
    }

    init?(decoding text: String) {
        if text == "mounted" { self = .mounted }
        else if text == "ready" { self = .ready }
        else if text.hasPrefix("proceed ") { self = .proceed(String(text.dropFirst(8))) }
        else if text.hasPrefix("failed ") { self = .failed(String(text.dropFirst(7))) }
        else { return nil }
    }
}

public struct InitChannel {
    public let fd: Int32
    public init(fd: Int32) { self.fd = fd }

    /// A connected pair; the child's end stays open across exec.
    public static func pair() throws(SystemError) -> (parent: InitChannel, child: Int32) {
        var fds: [Int32] = [0, 0]
        try sys("socketpair", socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds))
        // The child's end must survive execve into `vessel init`.
        _ = fcntl(fds[1], F_SETFD, 0)
        return (InitChannel(fd: fds[0]), fds[1])
    }

    public func send(_ message: InitMessage) {
        let bytes = Array(message.encoded.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Nil when the other side closed without a message (it died).
    public func receive() -> InitMessage? {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return nil }
            return InitMessage(decoding: String(decoding: buffer[0..<count], as: UTF8.self))
        }
    }

    public func close() { _ = Glibc.close(fd) }
}
