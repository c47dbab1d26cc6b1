import Glibc
import Linux
import OSKit

// The host memory a set of processes uses, as PSS (proportional set size:
// each shared page divided among the processes that map it), so shared
// libraries and the page cache are not counted once per process.
enum ProcessMemory {
    /// Pss of a live process, in KiB, from /proc/PID/smaps_rollup; nil once gone.
    static func pss(_ pid: pid_t) -> Int? {
        guard let text = try? FileIO.read("/proc/\(pid)/smaps_rollup") else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("Pss:") {
            return Int(line.split(separator: " ").dropFirst().first ?? "")
        }
        return nil
    }

    /// The process and its descendants, through every thread's children list.
    static func tree(_ root: pid_t) -> [pid_t] {
        var found: [pid_t] = []
        var pending = [root]
        while let pid = pending.popLast(), found.count < 256 {
            guard !found.contains(pid) else { continue }
            found.append(pid)
            for task in FileIO.listDirectory("/proc/\(pid)/task") {
                let children = (try? FileIO.read("/proc/\(pid)/task/\(task)/children")) ?? ""
                pending += children.split(separator: " ").compactMap { pid_t($0) }
            }
        }
        return found
    }
}
