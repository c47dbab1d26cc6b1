import XCTest

/// state, list, ps, events and pause/resume as a script reads them.
final class DifferentialStateListPsTests: XCTestCase {
    /// Two containers: {id} created, {id2} running.
    static let twoContainers: [DiffStep] = [.createIt, .cmd("run -d -b {bundle} {id2}")]
    static let deleteBoth: [DiffStep] = [.forceDelete, .cmd("delete --force {id2}")]

    static var scenarios: [DiffScenario] {
        [
            DiffScenario("list: no containers", steps: [.cmd("list", .table), .exact("list -q")]),
            DiffScenario("list --format json: no containers", steps: [.cmd("list --format json", .json)]),
            DiffScenario(
                "list: a created and a running container", script: "sleep 30",
                steps: twoContainers + [.cmd("list", .table), .exact("list -q"), .exact("list --quiet")] + deleteBoth),
            DiffScenario(
                "list -f json: a created and a running container", script: "sleep 30",
                steps: twoContainers + [.cmd("list -f json", .listJSON)] + deleteBoth),
            DiffScenario(
                "list: a stopped container", script: "true",
                steps: [.runDetached, .wait("stopped"), .cmd("list", .table), .cmd("list --format json", .listJSON), .cmd("delete {id}")]),
            DiffScenario("list: an unknown format", steps: [.cmd("list --format yaml")]),
            DiffScenario(
                "state: annotations of the config", script: "sleep 30",
                config: { spec, _ in
                    spec["annotations"] = ["org.example.key": "value", "org.example.other": "2"]
                }, steps: [.createIt, .stateIt, .forceDelete]),
            DiffScenario(
                "state and list: owner", script: "sleep 30",
                steps: [.createIt, .cmd("state {id}", .field("owner")), .cmd("list --format json", .listJSON), .forceDelete]),
            DiffScenario("state: too many arguments", script: "sleep 30", steps: [.createIt, .cmd("state {id} {id2}"), .forceDelete]),
            DiffScenario(
                "ps: a running container", script: "sleep 30 & exec sleep 31",
                steps: [.runDetached, .sleep(0.2), .cmd("ps {id}", .table), .forceDelete]),
            DiffScenario(
                "ps --format json", script: "sleep 30 & exec sleep 31",
                steps: [.runDetached, .sleep(0.2), .cmd("ps --format json {id}", .jsonShape), .cmd("ps -f json {id}", .jsonShape), .forceDelete]),
            // runc's `start` returns before its init has exec'd: wait until the
            // process runs the command, or ps sees runc's init in runc's case.
            DiffScenario(
                "ps: ps options after the id", script: "echo up > /tmp/up; exec sleep 30",
                steps: [.runDetached, .waitFile("up"), .sleep(0.3), .cmd("ps {id} -o pid,comm", .table), .forceDelete]),
            DiffScenario(
                "ps: a created container", script: "sleep 30",
                steps: [.createIt, .cmd("ps {id}", .table), .forceDelete]),
            DiffScenario(
                "ps: a stopped container", script: "true",
                steps: [.runDetached, .wait("stopped"), .cmd("ps {id}", .table), .cmd("delete {id}")]),
            DiffScenario(
                "ps: an unknown format", script: "sleep 30",
                steps: [.runDetached, .cmd("ps --format yaml {id}"), .forceDelete]),
            DiffScenario(
                "events --stats: a running container", script: "sleep 30",
                steps: [.runDetached, .cmd("events --stats {id}", .jsonShape), .forceDelete]),
            DiffScenario(
                "events --stats: a stopped container", script: "true",
                steps: [.runDetached, .wait("stopped"), .cmd("events --stats {id}"), .cmd("delete {id}")]),
            DiffScenario(
                "pause and resume", script: "i=0; while :; do i=$((i+1)); echo $i > /tmp/t; mv /tmp/t /tmp/tick; sleep 0.05; done",
                steps: [
                    .runDetached, .waitFile("tick"), .cmd("pause {id}"), .stateIt, .cmd("list", .table),
                    .host("a=$(cat {out}/tick); sleep 0.3; [ \"$a\" = \"$(cat {out}/tick)\" ] && echo frozen", .outcome),
                    .cmd("resume {id}"), .stateIt, .host("a=$(cat {out}/tick); sleep 0.3; [ \"$a\" != \"$(cat {out}/tick)\" ] && echo thawed", .outcome),
                    .forceDelete, .host("rm {out}/tick", .ignore),
                ]),
            DiffScenario(
                "pause: twice, then resume twice", script: "sleep 30",
                steps: [.runDetached, .cmd("pause {id}"), .cmd("pause {id}"), .cmd("resume {id}"), .cmd("resume {id}"), .stateIt, .forceDelete]),
            DiffScenario(
                "pause: a created container", script: "sleep 30",
                steps: [.createIt, .cmd("pause {id}"), .stateIt, .cmd("resume {id}"), .stateIt, .forceDelete]),
            DiffScenario(
                "pause: a stopped container", script: "true",
                steps: [.runDetached, .wait("stopped"), .cmd("pause {id}"), .cmd("resume {id}"), .cmd("delete {id}")]),
            DiffScenario(
                "delete --force: a paused container", script: "sleep 30",
                steps: [.runDetached, .cmd("pause {id}"), .cmd("delete {id}"), .cmd("delete --force {id}"), .stateIt]),
            DiffScenario(
                "list: created, running, paused and stopped", script: "sleep 30",
                steps: [
                    .createIt, .cmd("run -d -b {bundle} {id2}"), .cmd("run -d -b {bundle} {id}p"), .cmd("pause {id}p"),
                    .host("sed 's/sleep 30/true/' {bundle}/config.json > {host}/config.json && cp {host}/config.json {bundle}/config.json", .ignore),
                    .cmd("run -d -b {bundle} {id}s"), .sleep(0.3),
                    .cmd("list", .table), .exact("list -q"), .cmd("list --format table", .table), .cmd("list -f json", .listJSON),
                ]
                    + deleteBoth + [.cmd("delete --force {id}p"), .cmd("delete {id}s")]),
            DiffScenario(
                "list: a stray directory in the root", script: "sleep 30",
                steps: [
                    .createIt, .host("mkdir {root}/stray", .ignore), .cmd("list", .table), .cmd("list -q", .table),
                    .host("rmdir {root}/stray", .ignore), .forceDelete,
                ]),
            DiffScenario(
                "list: a state file that is not JSON", script: "sleep 30",
                steps: [
                    .createIt, .host("mkdir {root}/broken && echo nonsense > {root}/broken/state.json", .ignore),
                    .cmd("list", .table), .cmd("list -f json", .listJSON), .host("rm -r {root}/broken", .ignore), .forceDelete,
                ]),
            DiffScenario("list: an unknown argument", steps: [.cmd("list {id}")]),
            DiffScenario(
                "ps: -e", script: "echo up > /tmp/up; exec sleep 30",
                steps: [.runDetached, .waitFile("up"), .sleep(0.3), .cmd("ps {id} -e", .table), .forceDelete]),
            DiffScenario(
                "ps: -ef", script: "echo up > /tmp/up; exec sleep 30",
                steps: [.runDetached, .waitFile("up"), .sleep(0.3), .cmd("ps {id} -ef", .table), .forceDelete]),
            DiffScenario(
                "ps: -e -o pid,comm", script: "echo up > /tmp/up; exec sleep 30",
                steps: [.runDetached, .waitFile("up"), .sleep(0.3), .cmd("ps {id} -e -o pid,comm", .table), .forceDelete]),
            DiffScenario(
                "ps: options without a PID column", script: "sleep 30",
                steps: [.runDetached, .cmd("ps {id} -o comm"), .forceDelete]),
            DiffScenario(
                "ps: an option ps refuses", script: "sleep 30",
                steps: [.runDetached, .cmd("ps {id} --no-such-ps-option"), .forceDelete]),
            DiffScenario(
                "ps: json with ps options", script: "sleep 30",
                steps: [.runDetached, .cmd("ps -f json {id} -e", .jsonShape), .forceDelete]),
            DiffScenario(
                "ps: -e of a created container", script: "sleep 30",
                steps: [.createIt, .cmd("ps {id} -e", .table), .cmd("ps -f json {id}", .jsonShape), .forceDelete]),
            DiffScenario(
                "ps: json of a stopped container", script: "true",
                steps: [.runDetached, .wait("stopped"), .cmd("ps -f json {id}", .json), .cmd("delete {id}")]),
            DiffScenario(
                "state: a container stopped by kill", script: "sleep 30",
                steps: [.runDetached, .cmd("kill {id} KILL"), .wait("stopped"), .stateIt, .cmd("state {id}", .field("pid")), .cmd("delete {id}")]),
            DiffScenario(
                "delete --force: a created container", script: "sleep 30",
                steps: [.createIt, .cmd("delete --force {id}"), .stateIt]),
            DiffScenario(
                "delete --force: a stopped container", script: "true",
                steps: [.runDetached, .wait("stopped"), .cmd("delete --force {id}"), .stateIt]),
            DiffScenario(
                "delete: two ids", script: "sleep 30",
                steps: [.createIt, .cmd("run -d -b {bundle} {id2}"), .cmd("delete --force {id} {id2}"), .cmd("list -q", .exact)] + deleteBoth),
            DiffScenario(
                "pause: resume without a pause, then pause twice and delete", script: "sleep 30",
                steps: [.runDetached, .cmd("resume {id}"), .cmd("pause {id}"), .cmd("pause {id}"), .stateIt, .cmd("delete {id}"), .forceDelete, .stateIt]),
            DiffScenario(
                "ps: a paused container", script: "echo up > /tmp/up; exec sleep 30",
                steps: [.runDetached, .waitFile("up"), .sleep(0.3), .cmd("pause {id}"), .cmd("ps {id}", .table), .forceDelete]),
        ]
    }

    func testScenarios() throws { try DifferentialRunner.run(Self.scenarios) }
}
