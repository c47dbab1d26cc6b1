import Glibc

// Facts about the running system that several parts read: the monotonic
// clock (timeouts, timings) and the kernel's release.
public enum SystemClock {
    /// Seconds on CLOCK_MONOTONIC.
    public static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}

public enum KernelRelease {
    /// uname's release, e.g. "6.1.0-56-amd64".
    public static func current() -> String {
        var names = utsname()
        uname(&names)
        return withUnsafeBytes(of: &names.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
}
