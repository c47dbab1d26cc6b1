import XCTest

/// create, start, run (foreground, -d, --keep), delete: runc against vessel.
final class DifferentialLifecycleTests: XCTestCase {
    /// The pid file holds the pid `state` reports (and whether it ends in a newline).
    static let pidFileMatchesState = "[ \"$(cat {host}/pid)\" = \"" + DiffStep.statePid + "\" ] && echo matches state; wc -l < {host}/pid"

    /// Rewrites the bundle's namespaces with the jq `map` body (where $ns is
    /// the first container's /proc/<pid>/ns/), without id mappings.
    static func joinFirst(_ body: String) -> String {
        "jq --arg ns /proc/\(DiffStep.statePid)/ns/ '.linux.namespaces |= map(\(body)) | del(.linux.uidMappings, .linux.gidMappings)' {bundle}/config.json > {host}/joined.json && cp {host}/joined.json {bundle}/config.json"
    }

    static var scenarios: [DiffScenario] {
        [
            DiffScenario(
                "run: output and exit code of the container", script: "echo out; echo err >&2; exit 3",
                steps: [.exact("run -b {bundle} {id}")]),
            DiffScenario(
                "run: stdin reaches the container", script: "cat; echo end",
                steps: [.exact("run -b {bundle} {id}", stdin: "line one\nline two\n")]),
            DiffScenario(
                "run: a killed container gives 128+signal", script: "sleep 30",
                steps: [.background("run -b {bundle} {id}"), .wait("running"), .cmd("kill {id} KILL"), .join()]),
            DiffScenario(
                "run: args are looked up in the config's PATH",
                config: { spec, _ in
                    spec.setProcess("args", ["echo", "found in PATH"])
                }, steps: [.exact("run -b {bundle} {id}")]),
            DiffScenario(
                "run -d: detached, killed, deleted", script: "sleep 30",
                steps: [.runDetached, .stateIt, .cmd("kill {id} KILL"), .wait("stopped"), .cmd("delete {id}"), .stateIt]),
            DiffScenario(
                "run -d: the container exits by itself", script: "echo done > /tmp/done",
                steps: [.runDetached, .wait("stopped"), .stateIt, .cmd("delete {id}")]),
            DiffScenario(
                "run --keep: the stopped container stays", script: "exit 4",
                steps: [.exact("run --keep -b {bundle} {id}"), .stateIt, .cmd("delete {id}"), .stateIt]),
            DiffScenario(
                "run -d --pid-file", script: "sleep 30",
                steps: [.cmd("run -d --pid-file {host}/pid -b {bundle} {id}"), .host(pidFileMatchesState), .forceDelete]),
            DiffScenario(
                "create --pid-file", script: "sleep 30",
                steps: [.cmd("create --pid-file {host}/pid -b {bundle} {id}"), .host(pidFileMatchesState), .forceDelete]),
            DiffScenario(
                "run --no-pivot", script: "echo no pivot; ls /",
                steps: [.exact("run --no-pivot -b {bundle} {id}")]),
            // runc's no_pivot.bats: the host's /proc stays out of reach, so a
            // new user and pid namespace cannot mount a fresh procfs.
            DiffScenario(
                "run --no-pivot: no procfs for a new user namespace", script: "unshare -mrpf sh -c 'mount -t proc none /proc && echo mounted'",
                config: { spec, _ in
                    var caps = spec["process"].flatMap { ($0 as? [String: Any])?["capabilities"] as? [String: [String]] } ?? [:]
                    for set in ["bounding", "permitted"] { caps[set, default: []].append("CAP_SETFCAP") }
                    spec.setProcess("capabilities", caps)
                }, steps: [.exact("run --no-pivot -b {bundle} {id}")]),
            // runc's userns.bats and run.bats: a second container joins the
            // first one's user namespace by path (and, the second time, every
            // namespace but the mount one), making its other namespaces in it.
            DiffScenario(
                "user: joins another container's user namespace", script: "sleep 30", ownRootfs: true,
                config: { spec, _ in
                    spec.addRemappedUserNamespace()
                },
                steps: [
                    .host("chown -R 100000:200000 {bundle}/rootfs", .outcome), .runDetached,
                    .host(joinFirst("if .type == \"user\" then .path = $ns + \"user\" else . end"), .outcome),
                    .cmd("run -d -b {bundle} {id2}"), .exact("exec {id2} cat /proc/self/uid_map /proc/self/gid_map"),
                    .exact("exec {id2} sh -c 'ip -o link show lo | cut -d\" \" -f2,3; ps -o comm'"), .cmd("delete --force {id2}"),
                    .host(joinFirst("if .type == \"mount\" then . else .path = $ns + ({\"network\": \"net\"}[.type] // .type) end"), .outcome),
                    .cmd("run -d -b {bundle} {id2}"), .exact("exec {id2} ps -o comm"), .cmd("delete --force {id2}"), .forceDelete,
                ]),
            DiffScenario(
                "run --no-new-keyring", script: "echo shared keyring",
                steps: [.exact("run --no-new-keyring -b {bundle} {id}")]),
            DiffScenario(
                "create, start, state at each step, delete", script: "echo started > /tmp/started; sleep 30",
                steps: [
                    .createIt, .stateIt, .cmd("start {id}"), .wait("running"), .stateIt,
                    .cmd("kill {id} KILL"), .wait("stopped"), .stateIt, .cmd("delete {id}"), .stateIt,
                ]),
            DiffScenario(
                "create: the process waits for start", script: "echo ran > /tmp/ran",
                steps: [.createIt, .sleep(0.3), .host("ls {out}"), .cmd("start {id}"), .wait("stopped"), .cmd("delete {id}")]),
            DiffScenario(
                "start: a second start fails", script: "sleep 30",
                steps: [.createIt, .cmd("start {id}"), .cmd("start {id}"), .stateIt, .forceDelete]),
            DiffScenario(
                "start: a stopped container", script: "true",
                steps: [.createIt, .cmd("start {id}"), .wait("stopped"), .cmd("start {id}"), .cmd("delete {id}")]),
            DiffScenario(
                "create: an id already in use", script: "sleep 30",
                steps: [.createIt, .createIt, .stateIt, .forceDelete]),
            DiffScenario(
                "delete: a running container needs --force", script: "sleep 30",
                steps: [.runDetached, .cmd("delete {id}"), .stateIt, .cmd("delete --force {id}"), .stateIt]),
            DiffScenario(
                "delete: a created container", script: "sleep 30",
                steps: [.createIt, .cmd("delete {id}"), .stateIt]),
            DiffScenario("delete -f: a missing container", steps: [.cmd("delete -f {id}")]),
            DiffScenario(
                "state: a process killed behind the runtime's back", script: "sleep 30",
                steps: [
                    .runDetached, .host("kill -9 " + DiffStep.statePid, .outcome),
                    .wait("stopped"), .stateIt, .cmd("delete {id}"),
                ]),
        ]
    }

    func testScenarios() throws { try DifferentialRunner.run(Self.scenarios) }
}
