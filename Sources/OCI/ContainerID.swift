import Errors
// A container id as runc accepts it: letters, digits, `_ + - .`, not `.` or
// `..`, at most 1024 bytes; so it is always a single safe path component.
public struct ContainerID: Hashable, Sendable, CustomStringConvertible {
    public let value: String
    public static let maxLength = 1024

    public init(_ value: String) throws(VesselError) {
        guard !value.isEmpty else { throw .emptyID }
        guard value.utf8.count <= Self.maxLength else { throw .idTooLong(value.utf8.count, limit: Self.maxLength) }
        guard value != ".", value != ".." else { throw .invalidID(value) }
        for byte in value.utf8 {
            let ok =
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-")
                || byte == UInt8(ascii: ".")
            guard ok else { throw .invalidID(value) }
        }
        self.value = value
    }

    public var description: String { value }
}
