import Glibc
import SystemPackage

/// vessel's one error type. Every failure is a value with a kind, the
/// config field it is about, the errno of the system call that failed, an
/// optional cause, and the context added around it on the way out
/// (`wrapped`). Its description is the one line the user sees:
/// `context: ...: message: errno`.
public struct VesselError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Kind: String, Sendable {
        /// config.json (or process.json, a resources file) is wrong.
        case config
        /// A command-line argument is wrong.
        case invalidArgument
        case notFound, alreadyExists
        /// The container is not in a state the operation allows.
        case wrongState
        /// runc's "container not running": engines match on it.
        case notRunning
        case corruptState
        /// A system call failed; `errno` says how.
        case system
        /// The container's set-up failed in a way that is not one call.
        case setup
        case unsupported
        /// The VM backend: a missing part, an unbootable guest.
        case vm
    }

    public var kind: Kind
    /// What failed, without the context around it.
    public var message: String
    /// The config field at fault ("linux.namespaces[2].path").
    public var field: String?
    public var errno: Errno?
    /// Outermost first.
    public var context: [String] = []
    /// The error this one was made from, when it is another (0 or 1 entries).
    public var causes: [VesselError] = []

    public init(_ kind: Kind, _ message: String, field: String? = nil, errno: Errno? = nil) {
        self.kind = kind
        self.message = message
        self.field = field
        self.errno = errno
    }

    public var cause: VesselError? { causes.first }

    /// The errno's words ("No such file or directory"), or the message when
    /// the failure was not a system call's.
    public var reason: String { errno.map { "\($0)" } ?? message }

    public var description: String {
        (context + [message] + (errno.map { ["\($0)"] } ?? [])).joined(separator: ": ")
    }

    /// The same error with `outer` said before it; kind and errno stay, and
    /// `field` names the config field unless the error already names one.
    public func wrapped(_ outer: String, field: String? = nil) -> VesselError {
        var copy = self
        copy.context.insert(outer, at: 0)
        if copy.field == nil { copy.field = field }
        return copy
    }

    /// A new error of `kind` about `field`, caused by this one (whose line
    /// becomes its message's end).
    public func becoming(_ kind: Kind, field: String?, _ outer: String) -> VesselError {
        var error = VesselError(kind, outer + ": " + description, field: field ?? self.field, errno: errno)
        error.causes = [self]
        return error
    }
}

/// Any error as a VesselError: itself, or one of kind setup carrying its text.
extension VesselError {
    public init(_ error: any Error) {
        if let error = error as? VesselError {
            self = error
        } else {
            self.init(.setup, "\(error)")
        }
    }
}

// The constructors, one per failure; the wording of each is what users and
// tests read.
extension VesselError {
    // MARK: system calls and set-up

    /// A failed system call, named with what it was doing and on which path:
    /// `mount /proc: Permission denied`.
    public static func system(_ operation: String, errno: Errno = Errno(rawValue: Glibc.errno)) -> VesselError {
        VesselError(.system, operation, errno: errno)
    }

    public static func setup(_ text: String) -> VesselError { VesselError(.setup, text) }
    public static func initFailed(_ text: String) -> VesselError { VesselError(.setup, text) }

    // MARK: config

    public static func unreadable(path: String, reason: String) -> VesselError {
        VesselError(.config, "cannot read \(path): \(reason)")
    }

    public static func malformedJSON(path: String, reason: String) -> VesselError {
        VesselError(.config, "\(path) is not valid JSON: \(reason)")
    }

    public static func wrongType(field: String, expected: String) -> VesselError {
        VesselError(.config, "config.json: \(field): expected \(expected)", field: field)
    }

    public static func missingField(_ field: String) -> VesselError {
        VesselError(.config, "config.json: \(field) is required", field: field)
    }

    public static func invalidValue(field: String, reason: String) -> VesselError {
        VesselError(.config, "config.json: \(field): \(reason)", field: field)
    }

    public static func bundle(_ text: String) -> VesselError { VesselError(.config, text) }

    /// A resource the host cannot honour, named by its field.
    public static func unsupported(field: String, reason: String) -> VesselError {
        VesselError(.config, "config.json: \(field): \(reason)", field: field)
    }

    public static func controllerUnavailable(controller: String, field: String, cgroup: String) -> VesselError {
        VesselError(
            .config, "config.json: \(field) needs the cgroup v2 \(controller) controller, which is not available in \(cgroup)",
            field: field)
    }

    // MARK: commands and containers

    public static func invalidArgument(_ text: String) -> VesselError { VesselError(.invalidArgument, text) }
    public static func unsupported(_ text: String) -> VesselError { VesselError(.unsupported, text) }
    public static func notFound(_ id: String) -> VesselError { VesselError(.notFound, "container \(id) does not exist") }
    public static func alreadyExists(_ id: String) -> VesselError { VesselError(.alreadyExists, "container \(id) already exists") }

    public static func wrongState(id: String, operation: String, status: String) -> VesselError {
        VesselError(.wrongState, "cannot \(operation) container \(id): it is \(status)")
    }

    public static func notRunning(id: String, status: String) -> VesselError {
        VesselError(.notRunning, "cannot kill container \(id): container not running (it is \(status))")
    }

    /// state.json that does not decode, or names what is not the container's.
    public static func corruptState(id: String, reason: String) -> VesselError {
        VesselError(.corruptState, reason).wrapped("container \(id)")
    }

    public static let emptyID = VesselError(.invalidArgument, "container id must not be empty")

    public static func idTooLong(_ length: Int, limit: Int) -> VesselError {
        VesselError(.invalidArgument, "container id is \(length) bytes long; the limit is \(limit)")
    }

    public static func invalidID(_ id: String) -> VesselError {
        VesselError(.invalidArgument, "invalid container id \(id.debugDescription): use letters, digits and _ + - . only")
    }

    // MARK: the VM backend

    /// A part the VM needs is missing or unusable (kernel, QEMU, KVM).
    public static func unusable(_ text: String) -> VesselError { VesselError(.vm, "vm: " + text) }
    /// config.json asks for something the VM cannot honour.
    public static func vmConfig(_ text: String) -> VesselError { VesselError(.config, "vm: config.json: " + text) }
    /// The guest did not boot or its agent did not answer.
    public static func guest(_ text: String) -> VesselError { VesselError(.vm, "vm: " + text) }
}
