import Errors
import CVessel
import Glibc

// Signals as readable events on an fd, for poll loops (the VM supervisor and
// the guest agent): the signals are blocked and arrive through the fd.
public enum SignalFD {
    public static func block(_ signals: [Int32]) throws(VesselError) -> Int32 {
        let fd = signals.withUnsafeBufferPointer { vessel_signalfd($0.baseAddress, Int32($0.count)) }
        guard fd >= 0 else { throw VesselError.system("signalfd") }
        return fd
    }

    /// Pending signals, in arrival order, until none is left.
    public static func drain(_ fd: Int32) -> [Int32] {
        var received: [Int32] = []
        while case let number = vessel_signalfd_next(fd), number > 0 { received.append(number) }
        return received
    }
}
