import XCTest

/// What the container's process starts with: env, HOME, cwd, user, groups,
/// umask, rlimits, capabilities, no_new_privs, signals, as seen from inside.
final class DifferentialProcessTests: XCTestCase {
    /// `run` in the foreground of a container running `script`, with the config changed by `config`.
    static func seen(
        _ name: String, _ script: String, ownRootfs: Bool = false,
        config: @escaping (inout [String: Any], DiffSandbox) -> Void = { _, _ in }
    ) -> DiffScenario {
        DiffScenario(name, script: script, ownRootfs: ownRootfs, config: config, steps: [.exact("run -b {bundle} {id}")])
    }

    static func user(_ uid: Int, _ gid: Int, extra: [String: Any] = [:]) -> (inout [String: Any], DiffSandbox) -> Void {
        { spec, _ in spec.setProcess("user", ["uid": uid, "gid": gid].merging(extra) { $1 }) }
    }

    static func hostValue(_ sysctl: String) -> String {
        ((try? String(contentsOfFile: "/proc/sys/" + sysctl, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static let defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    static var scenarios: [DiffScenario] {
        [
            seen("env: exactly the config's, plus HOME", "env | sort") { spec, _ in
                spec.setProcess("env", [defaultPath, "TERM=xterm", "EMPTY=", "WITH_EQUALS=a=b"])
            },
            seen("env: a variable given twice", "echo $TWICE") { spec, _ in spec.setProcess("env", [defaultPath, "TWICE=first", "TWICE=second"]) },
            seen("env: a name given twice is in the environment once", "env") { spec, _ in
                spec.setProcess("env", ["ONE=two", "PATH=/bin", "ONE=", "TWO=a", "TWO=b"])
            },
            seen("env: an empty HOME is replaced from /etc/passwd", "env") { spec, _ in spec.setProcess("env", ["HOME=", "PATH=/bin"]) },
            seen("env: HOME given twice, the last one empty", "echo $HOME") { spec, _ in
                spec.setProcess("env", [defaultPath, "HOME=/override", "HOME="])
            },
            seen("env: a value with a new line", "env") { spec, _ in spec.setProcess("env", ["NEW_LINE=\n", "PATH=/bin"]) },
            seen("env: an empty name", "env") { spec, _ in spec.setProcess("env", ["=value", "PATH=/bin"]) },
            seen("env: HOME from /etc/passwd for root", "echo $HOME"),
            seen("session: the init leads a session and process group of its own", DifferentialExecTests.sessionLeader),
            seen("network: a new namespace has its loopback up", "ip -o link show lo | cut -d' ' -f2,3; ip -o addr show lo | cut -d' ' -f2,6,7"),
            seen("env: HOME from /etc/passwd for nobody", "echo $HOME", config: user(65534, 65534)),
            seen("env: HOME for a uid without a passwd entry", "echo $HOME", config: user(4242, 4242)),
            seen("env: HOME given in env is kept", "echo $HOME") { spec, _ in spec.setProcess("env", [defaultPath, "HOME=/custom"]) },
            seen("cwd: created when missing", "pwd", config: { spec, _ in spec.setProcess("cwd", "/tmp/made/here") }),
            seen("cwd: created in the rootfs when missing", "pwd; ls -d /newcwd", ownRootfs: true) { spec, _ in spec.setProcess("cwd", "/newcwd") },
            seen(
                "cwd: a directory the user cannot reach", "pwd; ls . > /dev/null; echo ls $?",
                config: { spec, _ in
                    spec.setProcess("user", ["uid": 1000, "gid": 1000])
                    spec.setProcess("cwd", "/root")
                }),
            // runc's cwd.bats: exec as root into a container whose cwd only its own user may enter.
            DiffScenario(
                "cwd: exec -u 0 and -u 1000 where the cwd is the user's alone", script: "sleep 30", ownRootfs: true,
                config: { spec, _ in
                    spec.setProcess("cwd", "/root")
                    spec.setProcess("user", ["uid": 42, "gid": 0])
                },
                steps: [
                    .host("chown 42 {bundle}/rootfs/root && chmod 700 {bundle}/rootfs/root", .outcome), .runDetached,
                    .exact("exec -u 0 {id} pwd"), .exact("exec -u 1000 {id} sh -c 'pwd; ls'"), .forceDelete,
                ]),
            seen("cwd: a file, not a directory", "pwd") { spec, _ in spec.setProcess("cwd", "/etc/passwd") },
            seen("cwd: relative", "pwd") { spec, _ in spec.setProcess("cwd", "etc") },
            seen(
                "user: uid, gid, additional gids, umask",
                "id; umask; touch /tmp/file; mkdir /tmp/dir",
                config: user(1000, 1001, extra: ["additionalGids": [10, 20], "umask": 0o27])),
            seen("user: the default umask", "umask; touch /tmp/file"),
            DiffScenario("user: the caller's umask is not the container's", script: "umask; touch /tmp/file", steps: [.host("umask 077; {rt} run -b {bundle} {id}")]),
            seen("rlimits: soft and hard", "ulimit -n; ulimit -Hn; ulimit -c; ulimit -Hc") { spec, _ in
                spec.setProcess("rlimits", [["type": "RLIMIT_NOFILE", "soft": 100, "hard": 200], ["type": "RLIMIT_CORE", "soft": 0, "hard": 4096]])
            },
            seen("rlimits: above the host's hard limit", "ulimit -n") { spec, _ in
                spec.setProcess("rlimits", [["type": "RLIMIT_NOFILE", "soft": 30000, "hard": 30000]])
            },
            seen("rlimits: an unknown type", "ulimit -n") { spec, _ in
                spec.setProcess("rlimits", [["type": "RLIMIT_NOSUCH", "soft": 1, "hard": 1]])
            },
            seen("capabilities: runc spec's defaults", "grep Cap /proc/self/status"),
            seen("capabilities: each set its own", "grep Cap /proc/self/status") { spec, _ in
                spec.setProcess(
                    "capabilities",
                    [
                        "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_SETUID"], "effective": ["CAP_KILL"],
                        "permitted": ["CAP_CHOWN", "CAP_KILL"], "inheritable": ["CAP_CHOWN"], "ambient": [],
                    ])
            },
            seen("capabilities: none at all", "grep Cap /proc/self/status") { spec, _ in
                spec.setProcess("capabilities", [String: Any]())
            },
            seen("capabilities: ambient for a non-root user", "grep Cap /proc/self/status", config: user(1000, 1000, extra: [:])),
            seen("capabilities: an unknown name", "grep CapEff /proc/self/status") { spec, _ in
                spec.setProcess(
                    "capabilities",
                    [
                        "bounding": ["CAP_KILL", "CAP_NO_SUCH"], "effective": ["CAP_KILL", "CAP_NO_SUCH"],
                        "permitted": ["CAP_KILL", "CAP_NO_SUCH"],
                    ])
            },
            seen("noNewPrivileges: true", "grep NoNewPrivs /proc/self/status"),
            seen("noNewPrivileges: false", "grep NoNewPrivs /proc/self/status") { spec, _ in spec.setProcess("noNewPrivileges", false) },
            seen("oomScoreAdj", "cat /proc/self/oom_score_adj") { spec, _ in spec.setProcess("oomScoreAdj", 100) },
            seen("hostname and domainname", "hostname; cat /proc/sys/kernel/domainname") { spec, _ in
                spec["hostname"] = "box"
                spec["domainname"] = "example.org"
            },
            seen("signals: the mask and ignored set the process starts with", "grep -E 'Sig(Blk|Ign)' /proc/self/status"),
            DiffScenario(
                "signals: the init's own mask and ignored set",
                config: { spec, _ in
                    spec.setProcess("args", ["grep", "-E", "Sig(Blk|Ign)", "/proc/self/status"])
                }, steps: [.exact("run -b {bundle} {id}")]),
            seen("process: file descriptors the process gets", "ls /proc/self/fd | sort"),
            seen("process: pid 1 in its own pid namespace", "echo $$; cat /proc/self/cgroup | cut -d: -f1,2"),
            seen("sysctl: in the container's namespaces", "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni") { spec, _ in
                spec.setLinux("sysctl", ["net.ipv4.ip_forward": "1", "kernel.shmmni": "1000"])
            },
            // The host's own values: a runtime that wrongly wrote them would change nothing.
            seen("sysctl: outside the container's namespaces", "true") { spec, _ in
                spec.setLinux("sysctl", ["kernel.pid_max": hostValue("kernel/pid_max")])
            },
            seen("sysctl: net without a network namespace", "true") { spec, _ in
                spec.setLinux("sysctl", ["net.ipv4.ip_forward": hostValue("net/ipv4/ip_forward")])
                spec.setLinux("namespaces", [["type": "pid"], ["type": "ipc"], ["type": "uts"], ["type": "mount"]])
            },
        ]
    }

    func testScenarios() throws { try DifferentialRunner.run(Self.scenarios) }
}
