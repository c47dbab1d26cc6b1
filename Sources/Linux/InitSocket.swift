import OSKit
import Errors
import Glibc

// The parent<->init socketpair. SOCK_STREAM, not SEQPACKET: the hand-off
// carries the whole spec, and a packet must fit the socket's send buffer
// (about 200 KiB), while a stream takes any size (the framing keeps the
// messages apart). The child's end is inherited across exec by number,
// named in one environment variable of `vessel init`.
public enum InitSocket {
    public static let environmentName = "_VESSEL_INIT"

    /// A connected pair; the child's end stays open across exec.
    public static func pair() throws(VesselError) -> (parent: MessageChannel, child: Int32) {
        var fds: [Int32] = [0, 0]
        try sys("socketpair", socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds))
        _ = fcntl(fds[1], F_SETFD, 0)
        return (MessageChannel(fd: fds[0]), fds[1])
    }

    /// The entry for the child's environment.
    public static func environment(_ childEnd: Int32) -> String { "\(environmentName)=\(childEnd)" }

    /// The init's end, from its environment, kept from what it spawns or
    /// execs (a closed socket tells `exec` that the process started).
    public static func inherited() -> MessageChannel? {
        guard let fd = getenv(environmentName).flatMap({ Int32(String(cString: $0)) }), fd >= 0 else { return nil }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        return MessageChannel(fd: fd)
    }
}
