import Glibc
import Errors
import SystemPackage

/// Runs a C call returning -1 on failure and throws a VesselError naming it.
@discardableResult
public func sys(_ operation: @autoclosure () -> String, _ result: Int32) throws(VesselError) -> Int32 {
    if result == -1 { throw VesselError.system(operation()) }
    return result
}

/// Runs a shim call returning -errno on failure (and a value ≥ 0 on
/// success) and throws a VesselError naming it.
@discardableResult
public func sysNegative(_ operation: @autoclosure () -> String, _ result: Int32) throws(VesselError) -> Int32 {
    if result < 0 { throw VesselError.system(operation(), errno: Errno(rawValue: -result)) }
    return result
}
