import Glibc
import Linux
import OSKit

// Facts about a host process read from /proc/<pid>/stat.
public struct ProcessStat {
    public let state: Character
    public let parentPID: Int32
    public let startTime: UInt64

    public init?(pid: Int32) {
        guard pid > 0, let bytes = try? FileIO.readBytes("/proc/\(pid)/stat") else { return nil }
        // The command name may hold spaces and parentheses: parse after the
        // last ')'. Split as bytes (a run reads this file three times; a
        // String split compares Characters); the three fields used are
        // converted as Strings, as before.
        guard let close = bytes.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        var fields: [Range<Int>] = []
        var start = close + 1
        for index in start...bytes.count where index == bytes.count || bytes[index] == UInt8(ascii: " ") {
            if index > start { fields.append(start..<index) }
            start = index + 1
            if fields.count > 19 { break }
        }
        func field(_ number: Int) -> String { String(decoding: bytes[fields[number]], as: UTF8.self) }
        // fields[0] is field 3 (state), fields[1] the parent; start time is field 22.
        guard fields.count > 19, let first = field(0).first, let parent = Int32(field(1)),
            let start = UInt64(field(19))
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
