// Every way a bundle can be wrong, each naming the file or field it is about.

public enum ConfigError: Error, Equatable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case malformedJSON(path: String, reason: String)
    case wrongType(field: String, expected: String)
    case missingField(String)
    case invalidValue(field: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason):
            return "cannot read \(path): \(reason)"
        case let .malformedJSON(path, reason):
            return "\(path) is not valid JSON: \(reason)"
        case let .wrongType(field, expected):
            return "config.json: \(field): expected \(expected)"
        case let .missingField(field):
            return "config.json: \(field) is required"
        case let .invalidValue(field, reason):
            return "config.json: \(field): \(reason)"
        }
    }
}
