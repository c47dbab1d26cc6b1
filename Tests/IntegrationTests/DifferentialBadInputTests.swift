import XCTest

/// Bad input: ids, bundles, configs, arguments, missing containers and
/// wrong state transitions. What counts: that it fails, the exit code, that
/// it says why, and that nothing is left behind.
final class DifferentialBadInputTests: XCTestCase {
    /// `create` of a bundle whose config.json is `text`, written as is.
    static func rawConfig(_ name: String, _ text: String) -> DiffScenario {
        DiffScenario(name, steps: [.host("printf '%s' '\(text)' > {bundle}/config.json", .ignore), .createIt])
    }

    static func badConfig(_ name: String, _ change: @escaping (inout [String: Any], DiffSandbox) -> Void) -> DiffScenario {
        DiffScenario(name, script: "true", config: change, steps: [.createIt, .stateIt])
    }

    static let everyCommandOnAMissingContainer: [DiffStep] = [
        "state {id}", "start {id}", "kill {id} KILL", "delete {id}", "pause {id}", "resume {id}", "ps {id}",
        "exec {id} true", "events --stats {id}", "update --pids-limit 10 {id}",
    ].map { DiffStep.cmd($0) }

    static var scenarios: [DiffScenario] {
        [
            DiffScenario(
                "ids: path-like ids", script: "true",
                steps: [
                    .cmd("create -b {bundle} ../escape"), .cmd("create -b {bundle} a/b"), .cmd("create -b {bundle} .."),
                    .cmd("create -b {bundle} ."), .host("ls {root}/.. | grep -c escape", .exact),
                ]),
            DiffScenario(
                "ids: characters outside runc's set", script: "true",
                steps: [
                    .cmd("create -b {bundle} 'with space'"), .cmd("create -b {bundle} a:b"), .cmd("create -b {bundle} ''"),
                    .cmd("create -b {bundle} é"),
                ]),
            DiffScenario(
                "ids: runc's whole character set is accepted", script: "true",
                steps: [.cmd("run -b {bundle} Az09_+-.{id}"), .cmd("state Az09_+-.{id}")]),
            DiffScenario(
                "ids: longer than a file name", script: "true",
                steps: [.cmd("create -b {bundle} " + String(repeating: "x", count: 300))]),
            DiffScenario("ids: no id", script: "true", steps: [.cmd("create -b {bundle}"), .cmd("state"), .cmd("start"), .cmd("delete")]),
            DiffScenario("bundle: a directory that does not exist", steps: [.cmd("create -b {host}/absent {id}")]),
            DiffScenario("bundle: without config.json", steps: [.host("rm {bundle}/config.json", .ignore), .createIt]),
            rawConfig("config: not JSON", "{\"ociVersion\": "),
            rawConfig("config: JSON but not an object", "[1, 2]"),
            rawConfig("config: an empty object", "{}"),
            badConfig("config: args of the wrong type") { spec, _ in spec.setProcess("args", "sh") },
            badConfig("config: empty args") { spec, _ in spec.setProcess("args", [String]()) },
            badConfig("config: a program not in PATH") { spec, _ in spec.setProcess("args", ["no-such-program"]) },
            badConfig("config: an absolute program that does not exist") { spec, _ in spec.setProcess("args", ["/bin/no-such-program"]) },
            badConfig("config: no process") { spec, _ in spec["process"] = nil },
            badConfig("config: no ociVersion") { spec, _ in spec["ociVersion"] = nil },
            badConfig("config: an unknown ociVersion") { spec, _ in spec["ociVersion"] = "9.9.9" },
            badConfig("config: unknown fields are ignored") { spec, _ in
                spec["vendorField"] = ["x": 1]
                spec.setProcess("unknownKey", true)
            },
            badConfig("config: an unknown namespace type") { spec, _ in
                spec.setLinux("namespaces", [["type": "pid"], ["type": "mount"], ["type": "no-such-ns"]])
            },
            badConfig("config: a namespace listed twice") { spec, _ in
                spec.setLinux("namespaces", [["type": "pid"], ["type": "mount"], ["type": "pid"]])
            },
            badConfig("config: a namespace path that does not exist") { spec, box in
                spec.setLinux("namespaces", [["type": "pid"], ["type": "mount"], ["type": "network", "path": box.host + "/absent-ns"]])
            },
            DiffScenario(
                "config: a namespace path of the wrong type", script: "true",
                config: { spec, box in
                    // A network namespace made for this run, given as the uts namespace.
                    spec.setLinux("namespaces", [["type": "pid"], ["type": "mount"], ["type": "network"], ["type": "uts", "path": box.host + "/netns"]])
                    spec["hostname"] = nil
                },
                steps: [
                    .host("touch {host}/netns && unshare --net={host}/netns true", .ignore), .createIt, .stateIt,
                    .host("umount {host}/netns", .ignore),
                ]),
            badConfig("config: a root.path that does not exist") { spec, box in spec["root"] = ["path": box.host + "/no-rootfs"] },
            badConfig("config: no root") { spec, _ in spec["root"] = nil },
            badConfig("config: an unknown rlimit") { spec, _ in spec.setProcess("rlimits", [["type": "RLIMIT_NOPE", "soft": 1, "hard": 1]]) },
            badConfig("config: an unknown capability") { spec, _ in spec.setProcess("capabilities", ["bounding": ["CAP_NOPE"]]) },
            badConfig("config: a hostname without a uts namespace") { spec, _ in
                spec.setLinux("namespaces", [["type": "pid"], ["type": "mount"]])
            },
            badConfig("config: an env entry without =") { spec, _ in spec.setProcess("env", ["PATH=/bin", "JUSTNAME"]) },
            badConfig("config: a negative uid") { spec, _ in spec.setProcess("user", ["uid": -1, "gid": 0]) },
            DiffScenario("command line: an unknown command", steps: [.cmd("frobnicate {id}")]),
            DiffScenario("command line: an unknown flag", steps: [.cmd("state --no-such-flag {id}")]),
            DiffScenario("command line: an unknown global flag", steps: [.cmd("--no-such-flag list")]),
            DiffScenario("command line: a flag that wants a value, without one", steps: [.cmd("create {id} --bundle")]),
            DiffScenario("missing container: every command", steps: everyCommandOnAMissingContainer),
            DiffScenario(
                "transitions: resume a running container", script: "sleep 30",
                steps: [.runDetached, .cmd("resume {id}"), .stateIt, .forceDelete]),
            DiffScenario(
                "transitions: start a running container", script: "sleep 30",
                steps: [.runDetached, .cmd("start {id}"), .stateIt, .forceDelete]),
            DiffScenario(
                "transitions: resume a created container", script: "sleep 30",
                steps: [.createIt, .cmd("resume {id}"), .stateIt, .forceDelete]),
            DiffScenario(
                "transitions: start a paused container", script: "sleep 30",
                steps: [.runDetached, .cmd("pause {id}"), .cmd("start {id}"), .stateIt, .forceDelete]),
            DiffScenario(
                "transitions: delete a stopped container twice", script: "true",
                steps: [.runDetached, .wait("stopped"), .cmd("delete {id}"), .cmd("delete {id}")]),
            DiffScenario("root: a --root that is a file", steps: [.host("touch {host}/file", .ignore), .cmd("--root {host}/file list")]),
            DiffScenario("root: a --root that does not exist yet", steps: [.cmd("--root {host}/new/root list", .table), .host("test -d {host}/new/root && echo made", .exact)]),
        ]
    }

    func testScenarios() throws { try DifferentialRunner.run(Self.scenarios) }
}
