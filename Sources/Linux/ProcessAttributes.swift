import OSKit
import Errors
import CVessel
import Glibc
import OCI

// runtime-spec 1.2's process attributes: process.scheduler (sched_setattr),
// process.ioPriority (ioprio_set), process.execCPUAffinity and
// linux.personality. The names are validated by SpecValidator; these
// tables turn them into the kernel's numbers.
public enum ProcessAttributes {
    public static let schedulerPolicies: [String: UInt32] = [
        "SCHED_OTHER": 0, "SCHED_FIFO": 1, "SCHED_RR": 2, "SCHED_BATCH": 3, "SCHED_ISO": 4,
        "SCHED_IDLE": 5, "SCHED_DEADLINE": 6,
    ]
    public static let schedulerFlags: [String: UInt64] = [
        "SCHED_FLAG_RESET_ON_FORK": 0x01, "SCHED_FLAG_RECLAIM": 0x02, "SCHED_FLAG_DL_OVERRUN": 0x04,
        "SCHED_FLAG_KEEP_POLICY": 0x08, "SCHED_FLAG_KEEP_PARAMS": 0x10, "SCHED_FLAG_UTIL_CLAMP_MIN": 0x20,
        "SCHED_FLAG_UTIL_CLAMP_MAX": 0x40,
    ]
    public static let ioPriorityClasses: [String: Int32] = ["IOPRIO_CLASS_RT": 1, "IOPRIO_CLASS_BE": 2, "IOPRIO_CLASS_IDLE": 3]
    public static let personalityDomains: [String: UInt] = ["LINUX": 0x0000, "LINUX32": 0x0008]

    /// "0-3,7" → [0, 1, 2, 3, 7]; nil when it is not a CPU list.
    public static func cpuList(_ text: String) -> [Int32]? {
        var cpus: [Int32] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            guard let low = bounds.first.flatMap({ Int32($0.trimmingPrefix(while: { $0 == " " })) }), low >= 0 else { return nil }
            let high = bounds.count == 2 ? Int32(bounds[1]) : (bounds.count == 1 ? low : nil)
            guard let high, high >= low, high < 8192 else { return nil }
            cpus.append(contentsOf: low...high)
        }
        return cpus.isEmpty ? nil : cpus
    }

    /// Scheduler and I/O priority, applied while the init is still privileged.
    static func applySchedulingAndIO(_ process: Process) throws {
        if let scheduler = process.scheduler {
            let policy = schedulerPolicies[scheduler.policy] ?? 0
            let flags = (scheduler.flags ?? []).reduce(UInt64(0)) { $0 | (schedulerFlags[$1] ?? 0) }
            try sysNegative(
                "process.scheduler: sched_setattr \(scheduler.policy)",
                vessel_sched_setattr(
                    policy, flags, scheduler.nice ?? 0, UInt32(max(0, scheduler.priority ?? 0)),
                    scheduler.runtime ?? 0, scheduler.deadline ?? 0, scheduler.period ?? 0))
        }
        if let io = process.ioPriority {
            try sysNegative(
                "process.ioPriority: ioprio_set \(io.class)",
                vessel_ioprio_set(ioPriorityClasses[io.class] ?? 2, io.priority ?? 0))
        }
    }

    /// One of execCPUAffinity's lists.
    static func applyAffinity(_ list: String?, field: String) throws {
        guard let list else { return }
        guard let cpus = cpuList(list) else { throw VesselError.setup("config.json: \(field): \(list.debugDescription) is not a CPU list") }
        try sysNegative(
            "\(field): sched_setaffinity \(list)",
            cpus.withUnsafeBufferPointer {
                vessel_set_affinity($0.baseAddress, Int32($0.count))
            })
    }

    static func applyPersonality(_ personality: Personality?) throws {
        guard let personality else { return }
        try sysNegative("linux.personality: \(personality.domain)", vessel_personality(personalityDomains[personality.domain] ?? 0))
    }
}
