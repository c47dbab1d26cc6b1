import Glibc
import SystemPackage

// A failed system call, named with what it was doing and on which path, so
// that the message alone says what went wrong: `mount /proc: Permission denied`.
public struct SystemError: Error, CustomStringConvertible {
    public let operation: String
    public let errno: Errno

    public init(_ operation: String, errno: Errno = Errno(rawValue: Glibc.errno)) {
        self.operation = operation
        self.errno = errno
    }

    public var description: String { "\(operation): \(errno)" }
}

/// Runs a C call returning -1 on failure and throws a SystemError naming it.
@discardableResult
public func sys(_ operation: @autoclosure () -> String, _ result: Int32) throws(SystemError) -> Int32 {
    if result == -1 { throw SystemError(operation()) }
    return result
}

/// A failure of the container's set-up that is not a single system call.
public struct SetupError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Runs a shim call returning -errno on failure (and a value ≥ 0 on
/// success) and throws a SystemError naming it.
@discardableResult
public func sysNegative(_ operation: @autoclosure () -> String, _ result: Int32) throws(SystemError) -> Int32 {
    if result < 0 { throw SystemError(operation(), errno: Errno(rawValue: -result)) }
    return result
}
