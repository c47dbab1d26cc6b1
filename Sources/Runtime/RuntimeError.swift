// Lifecycle errors, one line each, naming the container and what is wrong.
public enum RuntimeError: Error, CustomStringConvertible {
    case notFound(String)
    case alreadyExists(String)
    case wrongState(id: String, operation: String, status: String)
    /// runc's words, which engines match on (containerd's shim treats a
    /// kill error containing "container not running" as already gone).
    case notRunning(id: String, status: String)
    case bundle(String)
    case initFailed(String)
    case unsupported(String)
    case invalidArgument(String)
    /// state.json that does not decode, or names what is not the container's.
    case corruptState(id: String, reason: String)

    public var description: String {
        switch self {
        case let .notFound(id): return "container \(id) does not exist"
        case let .alreadyExists(id): return "container \(id) already exists"
        case let .wrongState(id, operation, status): return "cannot \(operation) container \(id): it is \(status)"
        case let .notRunning(id, status): return "cannot kill container \(id): container not running (it is \(status))"
        case let .bundle(text): return text
        case let .initFailed(text): return text
        case let .unsupported(text): return text
        case let .invalidArgument(text): return text
        case let .corruptState(id, reason): return "container \(id): \(reason)"
        }
    }
}
