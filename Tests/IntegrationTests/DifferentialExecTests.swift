import XCTest

/// exec and its flags, in a running container: runc against vessel.
final class DifferentialExecTests: XCTestCase {
    /// A running container (`sleep 30`), the steps, then delete --force.
    static func inSleeper(
        _ name: String, files: [String: String] = [:],
        config: @escaping (inout [String: Any], DiffSandbox) -> Void = { _, _ in },
        _ steps: [DiffStep]
    ) -> DiffScenario {
        DiffScenario(name, script: "sleep 30", files: files, config: config, steps: [.runDetached] + steps + [.forceDelete])
    }

    static let processFile = """
        {"args": ["sh", "-c", "echo from process.json; pwd; id; ulimit -n; echo $ONLY"], "cwd": "/etc",
         "user": {"uid": 1000, "gid": 1000, "additionalGids": [20]}, "env": ["PATH=/bin", "ONLY=this env"],
         "rlimits": [{"type": "RLIMIT_NOFILE", "soft": 77, "hard": 77}]}
        """

    /// Whether the shell leads its own session and process group (as
    /// runc's setsid makes every process that enters a container).
    static let sessionLeader = #"set -- $(cat /proc/$$/stat); [ "$1" = "$5" ] && [ "$1" = "$6" ] && echo leads its session || echo "pid $1 pgrp $5 sid $6""#

    static var scenarios: [DiffScenario] {
        [
            inSleeper("exec: output and exit code", [.exact("exec {id} sh -c 'echo out; echo err >&2; exit 5'")]),
            inSleeper("exec: the process leads a session of its own", [.exact("exec {id} sh -c '\(sessionLeader)'")]),
            inSleeper(
                "exec: -e, --cwd and the config's env",
                [
                    .exact("exec -e GREETING=hi -e EXTRA=2 --cwd /etc {id} sh -c 'echo $GREETING $EXTRA; pwd; env | sort'")
                ]),
            inSleeper("exec: --env", [.exact("exec --env GREETING=long {id} sh -c 'echo $GREETING'")]),
            inSleeper("exec: -e overrides a variable of the config", [.exact("exec -e TERM=dumb -e PATH=/bin {id} sh -c 'echo $TERM $PATH'")]),
            inSleeper(
                "exec: -e repeats names of the config and its own",
                config: { spec, _ in spec.setProcess("env", ["A=1", "PATH=/usr/bin:/bin", "A=2", "HOME="]) },
                [.exact("exec -e A=3 -e PATH=/bin -e B=x -e B=y {id} env"), .exact("exec -e HOME=/x {id} env")]),
            inSleeper("exec: -e with an empty name", [.exact("exec -e =x {id} env")]),
            inSleeper("exec: the caller's umask, where the config has none", [.host("umask 077; {rt} exec {id} sh -c umask")]),
            inSleeper(
                "exec: process.user.umask of the config", config: { spec, _ in spec.setProcess("user", ["uid": 0, "gid": 0, "umask": 63]) },
                [.exact("exec {id} grep ^Umask: /proc/1/status"), .exact("exec {id} grep ^Umask: /proc/self/status")]),
            inSleeper("exec: -u uid:gid", [.exact("exec -u 1000:1001 {id} id")]),
            inSleeper("exec: -u uid alone", [.exact("exec -u 65534 {id} id")]),
            inSleeper("exec: -u with a user name", [.exact("exec -u nobody {id} id")]),
            inSleeper("exec: -g additional gids", [.exact("exec -u 1000:1000 -g 10 -g 20 {id} id")]),
            inSleeper("exec: --additional-gids", [.exact("exec -u 1000:1000 --additional-gids 30 {id} id")]),
            inSleeper("exec: -p process.json", files: ["process.json": processFile], [.exact("exec -p {host}/process.json {id}")]),
            inSleeper(
                "exec: process.json without env, a bare program name", files: ["process.json": #"{"args": ["sh", "-c", "echo ran"], "cwd": "/"}"#],
                [.exact("exec -p {host}/process.json {id}")]),
            inSleeper("exec: --process with a missing file", [.exact("exec --process {host}/absent.json {id}")]),
            inSleeper("exec: --cap adds a capability", [.exact("exec --cap CAP_SYS_ADMIN {id} grep Cap /proc/self/status")]),
            inSleeper(
                "exec: --cap where the config gives none", config: { spec, _ in spec.setProcess("capabilities", [String: Any]()) },
                [.exact("exec {id} grep Cap /proc/self/status"), .exact("exec --cap CAP_KILL --cap CAP_AUDIT_WRITE {id} grep Cap /proc/self/status")]),
            // runc's rlimits.bats: exec gets the config's rlimits, whatever its caller's are.
            inSleeper(
                "exec: the config's rlimits, not the caller's",
                config: { spec, _ in spec.setProcess("rlimits", [["type": "RLIMIT_NOFILE", "soft": 1000, "hard": 1000]]) },
                [.host("prlimit --nofile=500:20000 {rt} exec {id} sh -c 'ulimit -n; ulimit -H -n'")]),
            inSleeper("exec: capabilities of the config", [.exact("exec {id} grep Cap /proc/self/status")]),
            inSleeper(
                "exec: --no-new-privs", config: { spec, _ in spec.setProcess("noNewPrivileges", false) },
                [
                    .exact("exec {id} grep NoNewPrivs /proc/self/status"),
                    .exact("exec --no-new-privs {id} grep NoNewPrivs /proc/self/status"),
                ]),
            inSleeper(
                "exec -d: returns while the process runs",
                [
                    .exact("exec -d {id} sh -c 'sleep 0.2; echo detached > /tmp/bg'"), .waitFile("bg"), .sleep(0.1),
                ]),
            inSleeper(
                "exec -d --pid-file",
                [
                    .cmd("exec -d --pid-file {host}/pid {id} sleep 5"),
                    .host("test -d /proc/$(cat {host}/pid) && echo running; wc -l < {host}/pid; cat /proc/$(cat {host}/pid)/comm"),
                ]),
            inSleeper("exec: stdin reaches the process", [.exact("exec {id} cat", stdin: "piped in\n")]),
            inSleeper(
                "exec: arguments after the command that look like flags",
                [
                    .exact("exec {id} echo -n no-newline"), .exact("exec {id} ls -d /etc"), .exact("exec {id} sh -c 'echo $1' -x --y"),
                ]),
            inSleeper("exec: a process killed by a signal", [.exact("exec {id} sh -c 'kill -KILL $$'")]),
            inSleeper(
                "exec: HOME from /etc/passwd",
                [
                    .exact("exec {id} sh -c 'echo $HOME'"), .exact("exec -u 65534 {id} sh -c 'echo $HOME'"),
                    .exact("exec -u 4242 {id} sh -c 'echo $HOME'"),
                ]),
            inSleeper("exec: a program not in PATH", [.exact("exec {id} no-such-program")]),
            inSleeper("exec: no command", [.cmd("exec {id}")]),
            inSleeper("exec: a cwd that does not exist", [.exact("exec --cwd /no/such/dir {id} pwd")]),
            inSleeper("exec: a relative cwd", [.exact("exec --cwd etc {id} pwd")]),
            inSleeper("exec: the process is in the container's pid namespace", [.cmd("exec {id} ps -o pid,comm", .table)]),
            inSleeper("exec -t: without a console socket", [.cmd("exec -t {id} tty")]),
            inSleeper("exec -t -d: with a console socket", [.console("exec -t -d --console-socket {sock} {id} sh -c 'tty; echo on the tty'"), .tty]),
            inSleeper("exec -t: a console socket without -d", [.console("exec -t --console-socket {sock} {id} tty"), .tty]),
            DiffScenario(
                "exec: in a created container", script: "sleep 30",
                steps: [.createIt, .exact("exec {id} echo hi"), .stateIt, .forceDelete]),
            DiffScenario(
                "exec: in a stopped container", script: "true",
                steps: [.runDetached, .wait("stopped"), .exact("exec {id} echo hi"), .cmd("delete {id}")]),
            inSleeper("exec: in a paused container", [.cmd("pause {id}"), .exact("exec {id} echo hi"), .cmd("resume {id}")]),
            DiffScenario(
                "exec: seccomp of the config applies", script: "sleep 30",
                config: { spec, _ in
                    spec.setLinux(
                        "seccomp",
                        [
                            "defaultAction": "SCMP_ACT_ALLOW",
                            "syscalls": [["names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38]],
                        ])
                }, steps: [.runDetached, .exact("exec {id} mkdir /tmp/blocked"), .forceDelete]),
        ]
    }

    func testScenarios() throws { try DifferentialRunner.run(Self.scenarios) }
}
