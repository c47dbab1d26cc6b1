import Glibc

/// Text written straight to a descriptor, as C's unbuffered `stderr` writes
/// it: Glibc's `stderr` and `stdout` are global variables Swift 6 cannot
/// prove race-free, and vessel needs no buffering for its messages and log
/// lines. Plain write(2), never send(2): a seccomp profile in force in the
/// init may kill on send.
public enum TextOutput {
    /// A message for the operator on fd 2.
    public static func standardError(_ text: String) {
        write(text, to: STDERR_FILENO)
    }

    /// `text` up to a NUL (where fputs stops); an error ends it, as fputs
    /// on an unbuffered stream gives up.
    public static func write(_ text: String, to fd: Int32) {
        let bytes = Array(text.utf8.prefix { $0 != 0 })
        bytes.withUnsafeBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(fd, base + offset, buffer.count - offset)
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else { return }
                offset += written
            }
        }
    }
}
