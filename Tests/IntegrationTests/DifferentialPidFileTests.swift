import XCTest

/// --pid-file of create, run -d and exec: relative paths (to the caller's
/// cwd), and where the file cannot be written.
final class DifferentialPidFileTests: XCTestCase {
    /// The pid file (relative to {host}) holds the pid `state` reports, on one line or none.
    static func matchesState(_ file: String) -> DiffStep {
        .host("cd {host} && [ \"$(cat \(file))\" = \"" + DiffStep.statePid + "\" ] && echo matches state; wc -l < {host}/\(file)")
    }

    /// A pid file of a process that may have exited: digits only, and its line count.
    static func holdsAPid(_ file: String) -> DiffStep {
        .host("grep -c '^[0-9][0-9]*$' {host}/\(file); wc -l < {host}/\(file)")
    }

    static var scenarios: [DiffScenario] {
        [
            DiffScenario(
                "pid-file: create with a relative path", script: "sleep 30",
                steps: [.host("cd {host} && {rt} create --pid-file rel.pid -b {bundle} {id}", .outcome), matchesState("rel.pid"), .forceDelete]),
            DiffScenario(
                "pid-file: run -d with a relative path", script: "sleep 30",
                steps: [
                    .host("cd {host} && {rt} run -d --pid-file sub/../rel.pid -b {bundle} {id}", .outcome),
                    matchesState("rel.pid"), .forceDelete,
                ]),
            DifferentialExecTests.inSleeper(
                "pid-file: exec in the foreground",
                [
                    .exact("exec --pid-file {host}/exec.pid {id} echo ran"), holdsAPid("exec.pid"),
                ]),
            DifferentialExecTests.inSleeper(
                "pid-file: exec -d with a relative path",
                [
                    .host("cd {host} && {rt} exec -d --pid-file exec.pid {id} sleep 5", .outcome),
                    .host("test -d /proc/$(cat {host}/exec.pid) && echo running; cat /proc/$(cat {host}/exec.pid)/comm"), holdsAPid("exec.pid"),
                ]),
            DiffScenario(
                "pid-file: a directory that does not exist", script: "sleep 30",
                steps: [.cmd("create --pid-file {host}/no/such/dir/pid -b {bundle} {id}"), .stateIt]),
            DiffScenario(
                "pid-file: an existing file is replaced", script: "sleep 30",
                steps: [
                    .host("echo 123456789 > {host}/old.pid", .ignore), .cmd("run -d --pid-file {host}/old.pid -b {bundle} {id}"),
                    matchesState("old.pid"), .forceDelete,
                ]),
            DiffScenario(
                "pid-file: a path that is a directory", script: "sleep 30",
                steps: [.host("mkdir {host}/piddir", .ignore), .cmd("create --pid-file {host}/piddir -b {bundle} {id}"), .stateIt]),
        ]
    }

    func testScenarios() throws { try DifferentialRunner.run(Self.scenarios) }
}
