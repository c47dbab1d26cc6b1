import Glibc
import Linux
import OSKit

// Facts about a host process read from /proc/<pid>/stat.
public struct ProcessStat {
    public let state: Character
    public let parentPID: Int32
    public let startTime: UInt64

    public init?(pid: Int32) {
        guard pid > 0, let text = try? FileIO.read("/proc/\(pid)/stat") else { return nil }
        // The command name may hold spaces and parentheses: parse after the last ')'.
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state), fields[1] the parent; start time is field 22.
        guard fields.count > 19, let first = fields[0].first, let parent = Int32(fields[1]),
            let start = UInt64(fields[19])
        else { return nil }
        state = first
        parentPID = parent
        startTime = start
    }

    /// Alive and the same process (not a zombie, not a reused pid).
    public static func isAlive(pid: Int32, startTime: UInt64) -> Bool {
        guard let stat = ProcessStat(pid: pid) else { return false }
        return stat.state != "Z" && stat.state != "X" && stat.startTime == startTime
    }
}
