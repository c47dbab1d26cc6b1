// A container id as runc accepts it: letters, digits, `_ + - .`, not `.` or
// `..`, at most 1024 bytes; so it is always a single safe path component.
public struct ContainerID: Hashable, Sendable, CustomStringConvertible {
    public let value: String
    public static let maxLength = 1024

    public init(_ value: String) throws(ContainerIDError) {
        guard !value.isEmpty else { throw .empty }
        guard value.utf8.count <= Self.maxLength else { throw .tooLong(value.utf8.count) }
        guard value != ".", value != ".." else { throw .invalid(value) }
        for byte in value.utf8 {
            let ok = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-")
                || byte == UInt8(ascii: ".")
            guard ok else { throw .invalid(value) }
        }
        self.value = value
    }

    public var description: String { value }
}

public enum ContainerIDError: Error, Equatable, CustomStringConvertible {
    case empty
    case tooLong(Int)
    case invalid(String)

    public var description: String {
        switch self {
        case .empty: return "container id must not be empty"
        case let .tooLong(n): return "container id is \(n) bytes long; the limit is \(ContainerID.maxLength)"
        case let .invalid(id): return "invalid container id \(id.debugDescription): use letters, digits and _ + - . only"
        }
    }
}
