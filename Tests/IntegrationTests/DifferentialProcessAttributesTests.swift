import XCTest

/// The process's umask, oom_score_adj, I/O priority, scheduler and
/// personality, and linux.sysctl keys and values the kernel refuses.
final class DifferentialProcessAttributesTests: XCTestCase {
    static func seen(_ name: String, _ script: String, _ config: @escaping (inout [String: Any], DiffSandbox) -> Void) -> DiffScenario {
        DifferentialProcessTests.seen(name, script, config: config)
    }

    /// The scheduling policy (0 normal, 3 batch, 5 idle...) and nice value of the shell.
    static let schedPolicy = "grep -E '^policy' /proc/self/sched | tr -s ' '; cut -d' ' -f19 /proc/self/stat"

    static var scenarios: [DiffScenario] {
        [
            seen("umask: 0", "umask; touch /tmp/open; mkdir /tmp/opendir") { spec, _ in
                spec.setProcess("user", ["uid": 0, "gid": 0, "umask": 0])
            },
            seen("umask: 077 for root", "umask; touch /tmp/closed") { spec, _ in
                spec.setProcess("user", ["uid": 0, "gid": 0, "umask": 0o77])
            },
            seen("oomScoreAdj: 1000", "cat /proc/self/oom_score_adj") { spec, _ in spec.setProcess("oomScoreAdj", 1000) },
            seen("oomScoreAdj: 0", "cat /proc/self/oom_score_adj") { spec, _ in spec.setProcess("oomScoreAdj", 0) },
            seen("oomScoreAdj: negative", "cat /proc/self/oom_score_adj") { spec, _ in spec.setProcess("oomScoreAdj", -100) },
            seen("oomScoreAdj: out of range", "cat /proc/self/oom_score_adj") { spec, _ in spec.setProcess("oomScoreAdj", 2000) },
            seen("ioPriority: best effort 4", "ionice") { spec, _ in
                spec.setProcess("ioPriority", ["class": "IOPRIO_CLASS_BE", "priority": 4])
            },
            seen("ioPriority: idle", "ionice") { spec, _ in spec.setProcess("ioPriority", ["class": "IOPRIO_CLASS_IDLE", "priority": 0]) },
            seen("ioPriority: an unknown class", "ionice") { spec, _ in spec.setProcess("ioPriority", ["class": "IOPRIO_CLASS_NOPE", "priority": 1]) },
            seen("scheduler: SCHED_BATCH with a nice value", schedPolicy) { spec, _ in
                spec.setProcess("scheduler", ["policy": "SCHED_BATCH", "nice": 5])
            },
            seen("scheduler: an unknown policy", schedPolicy) { spec, _ in spec.setProcess("scheduler", ["policy": "SCHED_NOPE"]) },
            seen("personality: LINUX32", "uname -m") { spec, _ in spec.setLinux("personality", ["domain": "LINUX32"]) },
            seen("personality: an unknown domain", "uname -m") { spec, _ in spec.setLinux("personality", ["domain": "AMIGA"]) },
            seen("sysctl: an unknown key", "echo ran") { spec, _ in spec.setLinux("sysctl", ["net.ipv4.no_such_key": "1"]) },
            seen("sysctl: a value the kernel refuses", "cat /proc/sys/net/ipv4/ip_forward") { spec, _ in
                spec.setLinux("sysctl", ["net.ipv4.ip_forward": "not a number"])
            },
            seen("sysctl: an ipc key", "cat /proc/sys/kernel/msgmax") { spec, _ in spec.setLinux("sysctl", ["kernel.msgmax": "4096"]) },
            seen("sysctl: a key given with slashes", "cat /proc/sys/net/ipv4/ip_forward") { spec, _ in
                spec.setLinux("sysctl", ["net/ipv4/ip_forward": "1"])
            },
            seen("hostname: an empty hostname", "hostname") { spec, _ in spec["hostname"] = "" },
        ]
    }

    func testScenarios() throws { try DifferentialRunner.run(Self.scenarios) }
}
