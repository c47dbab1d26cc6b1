import Glibc
import OSKit

// What the init writes on the exec FIFO once `start` has opened it: one
// byte that says the startContainer hooks ran (the FIFO's end then closes
// at execve), or, when they failed, a marker and the reason, so that
// `start` (and `run`) fails with that reason as its one line instead of
// the init printing it and `start` adding "exited before it could be
// started".
public enum ExecFifoSignal: Equatable {
    case started
    case failed(reason: String)

    static let startedByte: UInt8 = 0
    static let failedByte: UInt8 = 1
    /// One write below PIPE_BUF is atomic: `start` reads it whole.
    static let maximumReason = 4000

    static func sendStarted(on fd: Int32) {
        var byte = startedByte
        _ = write(fd, &byte, 1)
    }

    static func sendFailure(_ reason: String, on fd: Int32) {
        let bytes = [failedByte] + Array(reason.utf8.prefix(maximumReason))
        _ = bytes.withUnsafeBytes { FDIO.writeAll(fd, $0) }
    }

    /// What a read of the FIFO's first bytes says; nil for nothing yet.
    public static func decode(_ bytes: ArraySlice<UInt8>) -> ExecFifoSignal? {
        guard let first = bytes.first else { return nil }
        if first == failedByte { return .failed(reason: String(decoding: bytes.dropFirst(), as: UTF8.self)) }
        return .started
    }
}
