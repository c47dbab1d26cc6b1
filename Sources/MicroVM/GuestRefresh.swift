import Glibc

// What makes a guest a machine of its own before it runs anything: bytes
// from the host's getrandom for its kernel RNG and the host's clock. A
// guest restored from a template resumes with the template's RNG state
// (every clone would draw the same "random" bytes) and with the clock of
// the moment the template was saved. The supervisor sends this to every
// guest, cold-booted or restored, before `create`; the agent refuses to
// create a container without it.
public struct GuestRefresh: Codable, Sendable, Equatable {
    /// At least `minimumEntropy` bytes, credited to the guest's input pool.
    public var entropy: [UInt8]
    /// The host's CLOCK_REALTIME when the message was made.
    public var seconds: Int64
    public var nanoseconds: Int64

    public static let minimumEntropy = 64

    public init(entropy: [UInt8], seconds: Int64, nanoseconds: Int64) {
        self.entropy = entropy
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    /// Fresh bytes from the host's getrandom and the host's time, now.
    public static func now(entropyBytes: Int = 64) -> GuestRefresh {
        // The standard library's system generator is getrandom(2) on Linux.
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<max(entropyBytes, minimumEntropy)).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return GuestRefresh(entropy: bytes, seconds: Int64(time.tv_sec), nanoseconds: Int64(time.tv_nsec))
    }
}
