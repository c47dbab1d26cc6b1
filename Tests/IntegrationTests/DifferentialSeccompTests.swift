import XCTest

/// linux.seccomp: actions, errno values, argument conditions.
/// busybox's `renice N -p PID` calls setpriority(PRIO_PROCESS, PID, N), so
/// its third argument is ours to choose (each in a new shell at nice 0).
final class DifferentialSeccompTests: XCTestCase {
    static func filtered(_ name: String, _ script: String, _ seccomp: [String: Any]) -> DiffScenario {
        DiffScenario(
            name, script: script, config: { spec, _ in spec.setLinux("seccomp", seccomp) },
            steps: [.exact("run -b {bundle} {id}")])
    }

    static func rule(_ names: [String], _ action: String, errno: Int? = nil, args: [[String: Any]] = []) -> [String: Any] {
        var rule: [String: Any] = ["names": names, "action": action]
        if let errno { rule["errnoRet"] = errno }
        if !args.isEmpty { rule["args"] = args }
        return rule
    }

    static func allowing(_ rules: [[String: Any]], extra: [String: Any] = [:]) -> [String: Any] {
        ["defaultAction": "SCMP_ACT_ALLOW", "syscalls": rules].merging(extra) { $1 }
    }

    static let tryNice = "for n in 3 5 6 7 12; do sh -c 'renice \"$1\" -p $$ > /dev/null 2>&1' renice $n; echo \"renice $n: $?\"; done"

    static var scenarios: [DiffScenario] {
        [
            // runc's seccomp.bats: the runtime's own late calls must cope with
            // a filter loaded before them (here without no_new_privs, so first).
            DiffScenario(
                "seccomp: new mount and fd calls refused with ENOSYS, without no_new_privs",
                config: { spec, _ in
                    spec.setProcess("args", ["true"])
                    spec.setProcess("noNewPrivileges", false)
                    let calls = ["close_range", "fsopen", "fsconfig", "fspick", "openat2", "open_tree", "move_mount", "mount_setattr"]
                    spec.setLinux("seccomp", allowing([rule(calls, "SCMP_ACT_ERRNO", errno: 38)]))
                }, steps: [.exact("run -b {bundle} {id}")]),
            DiffScenario(
                "seccomp: a startContainer hook runs under the filter",
                config: { spec, _ in
                    spec.setProcess("args", ["true"])
                    spec.setProcess("rlimits", [["type": "RLIMIT_CORE", "soft": 0, "hard": 0]])
                    spec.setLinux("seccomp", allowing([rule(["mkdir", "mkdirat"], "SCMP_ACT_KILL")]))
                    spec.setHooks(["startContainer": [["path": "/bin/sh", "args": ["sh", "-c", "mkdir /tmp/hooked"]]]])
                }, steps: [.cmd("run -b {bundle} {id}"), .stateIt]),
            filtered(
                "seccomp: errno with errnoRet", "mkdir /tmp/blocked",
                allowing([rule(["mkdir", "mkdirat"], "SCMP_ACT_ERRNO", errno: 38)])),
            filtered(
                "seccomp: errno without errnoRet is EPERM", "mkdir /tmp/blocked",
                allowing([rule(["mkdir", "mkdirat"], "SCMP_ACT_ERRNO")])),
            filtered(
                "seccomp: defaultErrnoRet does not change a rule's errno", "mkdir /tmp/blocked",
                allowing([rule(["mkdir", "mkdirat"], "SCMP_ACT_ERRNO")], extra: ["defaultErrnoRet": 5])),
            filtered(
                "seccomp: one condition on an argument", tryNice,
                allowing([rule(["setpriority"], "SCMP_ACT_ERRNO", errno: 1, args: [["index": 2, "value": 5, "op": "SCMP_CMP_EQ"]])])),
            filtered(
                "seccomp: two conditions on the same argument in one rule", tryNice,
                allowing([
                    rule(
                        ["setpriority"], "SCMP_ACT_ERRNO", errno: 1,
                        args: [
                            ["index": 2, "value": 5, "op": "SCMP_CMP_EQ"], ["index": 2, "value": 7, "op": "SCMP_CMP_EQ"],
                        ])
                ])),
            filtered(
                "seccomp: a range as two conditions on the same argument", tryNice,
                allowing([
                    rule(
                        ["setpriority"], "SCMP_ACT_ERRNO", errno: 1,
                        args: [
                            ["index": 2, "value": 5, "op": "SCMP_CMP_GE"], ["index": 2, "value": 7, "op": "SCMP_CMP_LE"],
                        ])
                ])),
            filtered(
                "seccomp: conditions on two arguments", tryNice,
                allowing([
                    rule(
                        ["setpriority"], "SCMP_ACT_ERRNO", errno: 1,
                        args: [
                            ["index": 0, "value": 0, "op": "SCMP_CMP_EQ"], ["index": 2, "value": 6, "op": "SCMP_CMP_GT"],
                        ])
                ])),
            filtered(
                "seccomp: a masked comparison", tryNice,
                allowing([
                    rule(
                        ["setpriority"], "SCMP_ACT_ERRNO", errno: 1,
                        args: [
                            ["index": 2, "value": 4, "valueTwo": 4, "op": "SCMP_CMP_MASKED_EQ"]
                        ])
                ])),
            filtered(
                "seccomp: SCMP_ACT_KILL", "mkdir /tmp/killed; echo after $?",
                allowing([rule(["mkdir", "mkdirat"], "SCMP_ACT_KILL")])),
            filtered(
                "seccomp: SCMP_ACT_TRAP", "mkdir /tmp/trapped; echo after $?",
                allowing([rule(["mkdir", "mkdirat"], "SCMP_ACT_TRAP")])),
            filtered(
                "seccomp: SCMP_ACT_LOG allows", "mkdir /tmp/logged && echo made",
                allowing([rule(["mkdir", "mkdirat"], "SCMP_ACT_LOG")])),
            filtered(
                "seccomp: an unknown syscall name next to a known one", "mkdir /tmp/blocked",
                allowing([rule(["no_such_syscall", "mkdir", "mkdirat"], "SCMP_ACT_ERRNO", errno: 38)])),
            filtered(
                "seccomp: an unknown action", "echo ran",
                allowing([rule(["mkdir"], "SCMP_ACT_NO_SUCH")])),
            filtered(
                "seccomp: an unknown operator", "echo ran",
                allowing([rule(["setpriority"], "SCMP_ACT_ERRNO", args: [["index": 2, "value": 5, "op": "SCMP_CMP_NOPE"]])])),
            filtered(
                "seccomp: architectures", "mkdir /tmp/blocked",
                allowing(
                    [rule(["mkdir", "mkdirat"], "SCMP_ACT_ERRNO", errno: 38)],
                    extra: ["architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]])),
            filtered(
                "seccomp: errno as the default action", "echo before",
                ["defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1, "syscalls": [rule(["setpriority"], "SCMP_ACT_ALLOW")]]
            )
            .hangingAfter(3),
        ]
    }

    func testScenarios() throws { try DifferentialRunner.run(Self.scenarios) }
}
