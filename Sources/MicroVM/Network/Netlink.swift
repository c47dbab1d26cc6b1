// The netlink wire format (netlink(7)): a message is a 16-byte header, a
// family struct (ifinfomsg, rtmsg, tcmsg, ...) and attributes, each a
// 4-byte length and type, its payload, padded to 4 bytes. All integers are
// in host byte order. Pure: building and parsing only, so it is unit-tested.
public enum Netlink {
    // netlink.h
    public static let error: UInt16 = 2, done: UInt16 = 3
    public static let request: UInt16 = 0x1, multi: UInt16 = 0x2, ack: UInt16 = 0x4
    public static let dump: UInt16 = 0x300
    public static let replace: UInt16 = 0x100, exclusive: UInt16 = 0x200, create: UInt16 = 0x400
    public static let nested: UInt16 = 0x8000

    static func aligned(_ length: Int) -> Int { (length + 3) & ~3 }
}

/// Host-order bytes of fixed-size integers, and back.
public enum HostBytes {
    public static func of<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value) { Array($0) }
    }

    /// The integer at `offset` of `bytes`, or nil when it does not fit.
    public static func read<T: FixedWidthInteger>(_ type: T.Type, _ bytes: ArraySlice<UInt8>, at offset: Int = 0) -> T? {
        let start = bytes.startIndex + offset
        guard offset >= 0, start + MemoryLayout<T>.size <= bytes.endIndex else { return nil }
        var value: T = 0
        withUnsafeMutableBytes(of: &value) { target in
            for index in 0..<MemoryLayout<T>.size { target[index] = bytes[start + index] }
        }
        return value
    }
}

/// Attributes being written: appended in order, nested ones by a closure.
public struct NetlinkAttributes {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public mutating func add(_ type: UInt16, _ payload: [UInt8]) {
        bytes += HostBytes.of(UInt16(4 + payload.count)) + HostBytes.of(type) + payload
        bytes += [UInt8](repeating: 0, count: Netlink.aligned(payload.count) - payload.count)
    }

    public mutating func add(_ type: UInt16, string: String) { add(type, Array(string.utf8) + [0]) }
    public mutating func add(_ type: UInt16, u32: UInt32) { add(type, HostBytes.of(u32)) }

    public mutating func nest(_ type: UInt16, _ body: (inout NetlinkAttributes) -> Void) {
        var inner = NetlinkAttributes()
        body(&inner)
        add(type, inner.bytes)
    }
}

/// One message to send: its type, flags and body (family struct + attributes).
public struct NetlinkMessage {
    public var type: UInt16
    public var flags: UInt16
    public var header: [UInt8]
    public var attributes = NetlinkAttributes()

    public init(type: UInt16, flags: UInt16, header: [UInt8]) {
        self.type = type
        self.flags = flags
        self.header = header
    }

    public func bytes(sequence: UInt32) -> [UInt8] {
        let body = header + [UInt8](repeating: 0, count: Netlink.aligned(header.count) - header.count) + attributes.bytes
        return HostBytes.of(UInt32(16 + body.count)) + HostBytes.of(type) + HostBytes.of(flags)
            + HostBytes.of(sequence) + HostBytes.of(UInt32(0)) + body
    }
}

/// One message received: its type, sequence number and body.
public struct NetlinkReply: Equatable {
    public var type: UInt16
    public var sequence: UInt32
    public var body: ArraySlice<UInt8>

    /// The messages in one datagram; a truncated one ends the list.
    public static func split(_ bytes: [UInt8]) -> [NetlinkReply] {
        var replies: [NetlinkReply] = []
        var offset = 0
        while let length = HostBytes.read(UInt32.self, bytes[...], at: offset).map(Int.init),
            length >= 16, offset + length <= bytes.count
        {
            let type = HostBytes.read(UInt16.self, bytes[...], at: offset + 4) ?? 0
            let sequence = HostBytes.read(UInt32.self, bytes[...], at: offset + 8) ?? 0
            replies.append(NetlinkReply(type: type, sequence: sequence, body: bytes[(offset + 16)..<(offset + length)]))
            offset += Netlink.aligned(length)
        }
        return replies
    }

    /// For NLMSG_ERROR: the errno (positive; 0 is an acknowledgement).
    public var errorCode: Int32? {
        guard type == Netlink.error else { return nil }
        return HostBytes.read(Int32.self, body).map { -$0 }
    }

    /// The attributes after a family struct of `headerSize` bytes.
    public func attributes(after headerSize: Int) -> [NetlinkAttribute] {
        let start = body.startIndex + Netlink.aligned(headerSize)
        guard start <= body.endIndex else { return [] }
        return NetlinkAttribute.parse(body[start...])
    }
}

/// One attribute received. `type` is without the nested and byte-order bits.
public struct NetlinkAttribute: Equatable {
    public var type: UInt16
    public var payload: ArraySlice<UInt8>

    public static func parse(_ bytes: ArraySlice<UInt8>) -> [NetlinkAttribute] {
        var attributes: [NetlinkAttribute] = []
        var offset = 0
        while let length = HostBytes.read(UInt16.self, bytes, at: offset).map(Int.init), length >= 4,
            bytes.startIndex + offset + length <= bytes.endIndex
        {
            let type = (HostBytes.read(UInt16.self, bytes, at: offset + 2) ?? 0) & 0x3fff
            let start = bytes.startIndex + offset
            attributes.append(NetlinkAttribute(type: type, payload: bytes[(start + 4)..<(start + length)]))
            offset += Netlink.aligned(length)
        }
        return attributes
    }

    public var u32: UInt32? { HostBytes.read(UInt32.self, payload) }

    /// A NUL-terminated string payload.
    public var string: String {
        String(decoding: payload.prefix { $0 != 0 }, as: UTF8.self)
    }
}

extension Array where Element == NetlinkAttribute {
    public func first(_ type: UInt16) -> NetlinkAttribute? { first { $0.type == type } }
}
