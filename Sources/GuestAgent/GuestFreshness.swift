import Errors
import CVessel
import Glibc
import MicroVM
import OSKit

// The agent's side of GuestRefresh: the host's bytes into the kernel's
// input pool and a reseed of its CRNG (writing to /dev/urandom would mix
// the bytes in without crediting them or reseeding: clones kept drawing the
// same bytes), then the host's time as the guest's CLOCK_REALTIME.
enum GuestFreshness {
    static func apply(_ refresh: GuestRefresh) throws {
        guard refresh.entropy.count >= GuestRefresh.minimumEntropy else {
            throw VesselError.setup("agent: refresh: \(refresh.entropy.count) bytes of entropy; at least \(GuestRefresh.minimumEntropy) are needed")
        }
        try sysNegative(
            "reseed the guest's RNG (RNDADDENTROPY, RNDRESEEDCRNG)",
            refresh.entropy.withUnsafeBufferPointer { vessel_reseed_random($0.baseAddress, Int32($0.count)) })
        var time = timespec(tv_sec: Int(refresh.seconds), tv_nsec: Int(refresh.nanoseconds))
        try sys("set the guest's clock (clock_settime)", clock_settime(CLOCK_REALTIME, &time))
    }
}
