import Errors
// The one framing every vessel message travels in, on any byte stream
// (stream sockets, virtio-serial ports, pipes) or packet socket: a 4-byte
// big-endian payload length, then the payload (JSON, see MessageChannel).
// A frame is written with one write call, so on SOCK_SEQPACKET it is one
// packet. Lengths above `maximumPayload` are refused both ways: a corrupt
// or hostile length must not make the reader allocate gigabytes.
public enum Framing {
    public static let headerSize = 4
    public static let maximumPayload = 16 << 20

    /// Header and payload in one buffer.
    public static func frame(_ payload: [UInt8]) throws(VesselError) -> [UInt8] {
        guard payload.count <= maximumPayload else { throw oversize(payload.count) }
        let length = UInt32(payload.count)
        return [UInt8(length >> 24), UInt8((length >> 16) & 0xff), UInt8((length >> 8) & 0xff), UInt8(length & 0xff)] + payload
    }

    static func oversize(_ length: Int) -> VesselError {
        VesselError.setup("message of \(length) bytes refused: the limit is \(maximumPayload) bytes")
    }
}

/// Cuts frames out of bytes as they arrive: one read may hold part of a
/// frame or several frames.
public struct FrameDecoder {
    private var buffer: [UInt8] = []
    /// Where the unread bytes start: consumed frames are dropped in bulk.
    private var start = 0

    public init() {}

    public mutating func append(_ bytes: some Collection<UInt8>) {
        if start > 0 && start >= buffer.count / 2 {
            buffer.removeSubrange(0..<start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next whole payload; nil until all its bytes are here.
    public mutating func next() throws(VesselError) -> [UInt8]? {
        guard let length = pendingLength else { return nil }
        guard length <= Framing.maximumPayload else { throw Framing.oversize(length) }
        let end = start + Framing.headerSize + length
        guard buffer.count >= end else { return nil }
        let payload = Array(buffer[(start + Framing.headerSize)..<end])
        start = end
        return payload
    }

    /// Bytes of a frame that has not arrived whole: at EOF, a cut message.
    public var unfinished: Int { buffer.count - start }

    /// The payload length announced by the header at `start`, once it is here.
    private var pendingLength: Int? {
        guard buffer.count - start >= Framing.headerSize else { return nil }
        return buffer[start..<(start + Framing.headerSize)].reduce(0) { $0 << 8 | Int($1) }
    }
}
