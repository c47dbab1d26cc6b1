import CVessel
import Errors
import Glibc
import OSKit
import SystemPackage

// A NETLINK_ROUTE socket: in the caller's network namespace, or in another
// one (made there by a thread that joins it: CVessel's vessel_netns_socket),
// where it stays whatever namespace the caller is in. Requests are answered
// with an acknowledgement or an errno; dumps with messages until DONE.
public final class NetlinkSocket {
    let fd: Int32
    var sequence: UInt32 = 0

    /// In this thread's network namespace.
    public init() throws {
        let fd = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0 /* NETLINK_ROUTE */)
        guard fd >= 0 else { throw VesselError.system("open a netlink socket") }
        self.fd = fd
        try setTimeout()
    }

    /// In the network namespace `namespaceFD` is (setns refuses any other type).
    public init(namespace namespaceFD: Int32, name: String) throws {
        let fd = vessel_netns_socket(namespaceFD, AF_NETLINK, Int32(SOCK_RAW.rawValue), 0)
        guard fd >= 0 else { throw VesselError.system("open a netlink socket in network namespace \(name)", errno: Errno(rawValue: -fd)) }
        self.fd = fd
        try setTimeout()
    }

    deinit { close(fd) }

    /// The kernel answers at once; a bound wait keeps a lost answer from
    /// hanging the supervisor or the agent.
    private func setTimeout() throws {
        var limit = timeval(tv_sec: 10, tv_usec: 0)
        try sys(
            "set a netlink socket's timeout",
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size)))
    }

    /// Sends `message` with NLM_F_ACK; throws the kernel's errno, with `what`.
    public func perform(_ message: NetlinkMessage, _ what: @autoclosure () -> String) throws {
        var message = message
        message.flags |= Netlink.request | Netlink.ack
        let sequence = try send(message, what())
        while true {
            for reply in try receive(what()) where reply.sequence == sequence {
                if let code = reply.errorCode {
                    if code == 0 { return }
                    throw VesselError.system(what(), errno: Errno(rawValue: code))
                }
            }
        }
    }

    /// Sends `message` as a dump request; the messages of the answer.
    public func dump(_ message: NetlinkMessage, _ what: @autoclosure () -> String) throws -> [NetlinkReply] {
        var message = message
        message.flags |= Netlink.request | Netlink.dump
        let sequence = try send(message, what())
        var replies: [NetlinkReply] = []
        while true {
            for reply in try receive(what()) where reply.sequence == sequence {
                if reply.type == Netlink.done { return replies }
                if let code = reply.errorCode {
                    throw VesselError.system(what(), errno: Errno(rawValue: code == 0 ? EIO : code))
                }
                replies.append(reply)
            }
        }
    }

    private func send(_ message: NetlinkMessage, _ what: String) throws -> UInt32 {
        sequence &+= 1
        let bytes = message.bytes(sequence: sequence)
        let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
        guard sent == bytes.count else { throw VesselError.system(what + " (netlink send)") }
        return sequence
    }

    private func receive(_ what: String) throws -> [NetlinkReply] {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { throw VesselError.system(what + " (netlink receive)") }
            return NetlinkReply.split(Array(buffer.prefix(count)))
        }
    }
}
