import Foundation
import XCTest

// `state`, `start`, `kill`, `delete`, `create`, `run` and `exec` have a
// hand-written fast path
// (Sources/vessel/FastPath.swift). Each test runs the same steps twice, once
// as is and once with VESSEL_NO_FAST_PATH=1 (ArgumentParser), and checks that
// exit codes, stdout, stderr and --log lines are the same.
final class FastPathTests: XCTestCase {
    var harness: Harness!

    override func setUpWithError() throws { harness = try Harness() }
    override func tearDown() {
        unsetenv("VESSEL_NO_FAST_PATH")
        harness?.cleanUp()
    }

    /// `prepare`, then `steps`, through the fast path; `prepare` and `steps`
    /// again through ArgumentParser; the outcomes must match one for one.
    @discardableResult
    func assertBothPathsAgree(
        prepare: () throws -> Void = {}, _ steps: () throws -> [Outcome],
        file: StaticString = #filePath, line: UInt = #line
    ) throws -> [Outcome] {
        unsetenv("VESSEL_NO_FAST_PATH")
        try prepare()
        let fast = try steps()
        setenv("VESSEL_NO_FAST_PATH", "1", 1)
        defer { unsetenv("VESSEL_NO_FAST_PATH") }
        try prepare()
        let slow = try steps()
        XCTAssertEqual(fast.count, slow.count, file: file, line: line)
        for (index, (a, b)) in zip(fast, slow).enumerated() {
            XCTAssertEqual(a.code, b.code, "step \(index): exit code; stderr \(a.stderr) / \(b.stderr)", file: file, line: line)
            XCTAssertEqual(a.stdout, b.stdout, "step \(index): stdout", file: file, line: line)
            XCTAssertEqual(Self.masked(a.stderr), Self.masked(b.stderr), "step \(index): stderr", file: file, line: line)
        }
        return fast
    }

    /// `text` with what differs from one run to the next masked: the
    /// (second-resolution) time and the pids that --debug lines name.
    static func masked(_ text: String) -> String {
        text.replacingOccurrences(of: #"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"#, with: "TIME", options: .regularExpression)
            .replacingOccurrences(of: #"pid \d+"#, with: "pid N", options: .regularExpression)
    }

    /// The log file's lines, masked; the file is removed so the next run
    /// starts afresh.
    func takeLog(_ path: String) -> Outcome {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? "<no log file>"
        try? FileManager.default.removeItem(atPath: path)
        return Outcome(code: 0, stdout: Self.masked(text), stderr: "")
    }

    func testStateMatches() throws {
        let bundle = try harness.shellBundle("sleep 100")
        XCTAssertEqual(try harness.vessel(["create", "--bundle", bundle, "s1"]).code, 0)
        let log = harness.scratch + "/state.log"
        let outcomes = try assertBothPathsAgree {
            [
                try harness.vessel(["state", "s1"]),
                try harness.vessel(["--debug", "state", "s1"]),
                try harness.vessel(["state", "s1", "--debug"]),
                try Harness.execute(Harness.vesselBinary, ["state", "--root=" + harness.stateRoot, "s1"]),
                try Harness.execute(Harness.vesselBinary, ["state", "s1", "--root", harness.stateRoot]),
                try harness.vessel(["state", "nope"]),
                try harness.vessel(["state", "a/b"]),
                try harness.vessel(["state", ".."]),
                try harness.vessel(["state", "help"]),
                try harness.vessel(["--log", log, "--log-format", "json", "state", "nope"]),
                takeLog(log),
                try harness.vessel(["--log=" + log, "state", "nope", "--log-format=text"]),
                takeLog(log),
                try harness.vessel(["--log", log, "state", "s1"]),
                takeLog(log),
            ]
        }
        XCTAssertEqual(outcomes[0].code, 0, outcomes[0].stderr)
        XCTAssertTrue(outcomes[0].stdout.contains("\"status\": \"created\""), outcomes[0].stdout)
        XCTAssertEqual(outcomes[5].code, 1)
        XCTAssertTrue(outcomes[10].stdout.contains("\"level\":\"error\""), outcomes[10].stdout)
        XCTAssertTrue(outcomes[12].stdout.contains("level=error"), outcomes[12].stdout)
    }

    func testStartMatches() throws {
        let bundle = try harness.shellBundle("sleep 100")
        let outcomes = try assertBothPathsAgree(prepare: {
            try harness.vessel(["delete", "--force", "s2"])
            XCTAssertEqual(try harness.vessel(["create", "--bundle", bundle, "s2"]).code, 0)
        }) {
            [
                try harness.vessel(["start", "s2"]),
                try harness.vessel(["start", "s2"]),
                try harness.vessel(["start", "nope"]),
                try harness.vessel(["start", "-x-"]),
            ]
        }
        XCTAssertEqual(outcomes[0].code, 0, outcomes[0].stderr)
        XCTAssertEqual(outcomes[1].code, 1)
        XCTAssertEqual(try harness.status("s2"), "running")
    }

    func testKillMatches() throws {
        let bundle = try harness.shellBundle("sleep 100")
        let outcomes = try assertBothPathsAgree(prepare: {
            try harness.vessel(["delete", "--force", "k1"])
            XCTAssertEqual(try harness.vessel(["run", "--detach", "--bundle", bundle, "k1"]).code, 0)
        }) {
            var steps = [
                try harness.vessel(["kill", "k1", "FOO"]),
                try harness.vessel(["kill", "k1", "99"]),
                // pid 1 of the container ignores signals it has no handler for.
                try harness.vessel(["kill", "k1", "SIGUSR1"]),
                try harness.vessel(["kill", "k1", "usr1"]),
                try harness.vessel(["kill", "k1", "10"]),
                try harness.vessel(["kill", "-a", "k1", "WINCH"]),
                try harness.vessel(["kill", "--all", "k1", "WINCH", "--debug"]),
                try harness.vessel(["kill", "nope", "KILL"]),
                try harness.vessel(["kill", "k1", "KILL"]),
            ]
            try harness.waitForStatus("k1", "stopped")
            steps.append(try harness.vessel(["kill", "k1", "KILL"]))
            steps.append(try harness.vessel(["kill", "k1"]))
            return steps
        }
        XCTAssertEqual(outcomes.map(\.code), [1, 1, 0, 0, 0, 0, 0, 1, 0, 1, 1])
    }

    func testDeleteMatches() throws {
        let bundle = try harness.shellBundle("sleep 100")
        let outcomes = try assertBothPathsAgree(prepare: {
            for id in ["d1", "d2"] { try harness.vessel(["delete", "--force", id]) }
            XCTAssertEqual(try harness.vessel(["create", "--bundle", bundle, "d1"]).code, 0)
            XCTAssertEqual(try harness.vessel(["run", "--detach", "--bundle", bundle, "d2"]).code, 0)
        }) {
            [
                try harness.vessel(["delete", "d2"]),
                try harness.vessel(["delete", "d1"]),
                try harness.vessel(["delete", "d1"]),
                try harness.vessel(["delete", "-f", "d1"]),
                try harness.vessel(["delete", "d2", "--force"]),
                try harness.vessel(["delete", "--force", "a/b"]),
            ]
        }
        XCTAssertEqual(outcomes.map(\.code), [1, 0, 1, 0, 0, 1])
        harness.assertNoTrace("d1")
        harness.assertNoTrace("d2")
    }

    /// The pid file's content is a pid, which differs between runs: an
    /// outcome saying whether it is one, and the file removed.
    func takePIDFile(_ path: String) -> Outcome {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? "<no pid file>"
        try? FileManager.default.removeItem(atPath: path)
        return Outcome(code: Int32(text).map { $0 > 0 ? 0 : 2 } ?? 1, stdout: Int32(text) == nil ? text : "pid", stderr: "")
    }

    /// The host-safety refusals and warnings (HostSafetyLifecycleTests)
    /// read the same on both paths: corrupt state, a shared and a frozen cgroup.
    func testCorruptStateAndCgroupRefusalsMatch() throws {
        let cgroup = "/vessel-fp-" + UUID().uuidString.prefix(8).lowercased()
        let shared = try harness.shellBundle("sleep 100") { $0.setLinux("cgroupsPath", cgroup) }
        let frozenDirectory = "/sys/fs/cgroup" + cgroup + "-frozen"
        let frozen = try harness.shellBundle("sleep 100") { $0.setLinux("cgroupsPath", cgroup + "-frozen") }
        defer {
            harness.cleanUp()
            for dir in [frozenDirectory, "/sys/fs/cgroup" + cgroup] { Harness.removeCgroup(dir) }
        }
        let outcomes = try assertBothPathsAgree(prepare: {
            for id in ["h1", "h2", "h3"] { try harness.vessel(["delete", "--force", id]) }
            XCTAssertEqual(try harness.vessel(["run", "--detach", "--bundle", shared, "h1"]).code, 0)
            let file = URL(fileURLWithPath: harness.stateRoot + "/h1/state.json")
            var fields = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any])
            fields["bundle"] = 42
            try JSONSerialization.data(withJSONObject: fields).write(to: file)
            mkdir(frozenDirectory, 0o755)
            try "1".write(toFile: frozenDirectory + "/cgroup.freeze", atomically: false, encoding: .utf8)
        }) {
            [
                try harness.vessel(["run", "--detach", "--bundle", shared, "h2"]),
                try harness.vessel(["state", "h1"]),
                try harness.vessel(["kill", "h1", "KILL"]),
                try harness.vessel(["delete", "h1"]),
                try harness.vessel(["delete", "--force", "h1"]),
                try harness.vessel(["delete", "--force", "h2"]),
                try harness.vessel(["run", "--detach", "--bundle", frozen, "h3"]),
                try harness.vessel(["create", "--bundle", frozen, "h3"]),
            ]
        }
        XCTAssertEqual(outcomes.map(\.code), [0, 1, 1, 1, 0, 0, 1, 1])
        XCTAssertTrue(outcomes[0].stderr.contains("not empty"), outcomes[0].stderr)
        XCTAssertTrue(outcomes[6].stderr.contains("unexpectedly frozen"), outcomes[6].stderr)
    }

    func testCreateMatches() throws {
        let bundle = try harness.shellBundle("sleep 100")
        // A capability this host does not know: a warning, to --log only.
        let warning = try harness.shellBundle("sleep 100") { config in
            config.setProcess("capabilities", ["bounding": ["CAP_KILL", "CAP_NOT_ON_THIS_HOST"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"]])
        }
        let terminal = try harness.shellBundle("sleep 100") { config in
            var process = config["process"] as? [String: Any] ?? [:]
            process["terminal"] = true
            config["process"] = process
        }
        let missing = try harness.bundle { config in
            var process = config["process"] as? [String: Any] ?? [:]
            process["args"] = ["/no/such/program"]
            config["process"] = process
        }
        let log = harness.scratch + "/create.log"
        let pidFile = harness.scratch + "/create.pid"
        let ids = ["c1", "c2", "c3", "c4", "c5"]
        let outcomes = try assertBothPathsAgree(prepare: {
            for id in ids { try harness.vessel(["delete", "--force", id]) }
        }) {
            [
                try harness.vessel(["create", "--bundle", bundle, "c1"]),
                try harness.vessel(["state", "c1"]).code == 0 ? Outcome(code: 0, stdout: try harness.status("c1") ?? "", stderr: "") : Outcome(code: 1, stdout: "", stderr: ""),
                try harness.vessel(["create", "--bundle", bundle, "c1"]),
                try harness.vessel(["create", "-b", bundle, "--pid-file", pidFile, "c2"]),
                takePIDFile(pidFile),
                try harness.vessel(["create", "c3", "--bundle=" + bundle, "--debug"]),
                try harness.vessel(["create", "--bundle", harness.scratch + "/none", "c4"]),
                try harness.vessel(["create", "--bundle", bundle, "a/b"]),
                try harness.vessel(["create", "--bundle", terminal, "c4"]),
                try harness.vessel(["create", "--bundle", terminal, "--console-socket", harness.scratch + "/no.sock", "c4"]),
                try harness.vessel(["create", "--bundle", missing, "c4"]),
                try harness.vessel(["--log", log, "--log-format", "json", "create", "--bundle", warning, "c4"]),
                takeLog(log),
                try harness.vessel(["create", "--bundle", warning, "c5"]),
                try harness.vessel(["--log", log, "create", "--bundle", bundle, "c1"]),
                takeLog(log),
            ]
        }
        XCTAssertEqual(outcomes.map(\.code), [0, 0, 1, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0])
        XCTAssertEqual(outcomes[1].stdout, "created")
        XCTAssertTrue(outcomes[12].stdout.contains("\"level\":\"warning\""), outcomes[12].stdout)
        XCTAssertTrue(outcomes[13].stderr.contains("warning"), outcomes[13].stderr)
        for id in ids { try harness.vessel(["delete", "--force", id]) }
        harness.assertNoTrace("c4")
    }

    /// org.vessel.isolation=vm sends a plain `create` to the VM backend on
    /// both paths (with no guest kernel: its error, not a container).
    func testVMAnnotationGoesToTheVMBackend() throws {
        setenv("VESSEL_VM_DIR", harness.scratch + "/no-vm-dir", 1)
        defer { unsetenv("VESSEL_VM_DIR") }
        let bundle = try harness.shellBundle("true") { config in
            config["annotations"] = ["org.vessel.isolation": "vm"]
        }
        let outcomes = try assertBothPathsAgree {
            [
                try harness.vessel(["create", "--bundle", bundle, "fpvm1"]),
                try harness.vessel(["run", "--bundle", bundle, "fpvm2"]),
            ]
        }
        XCTAssertEqual(outcomes.map(\.code), [1, 1])
        XCTAssertTrue(outcomes[0].stderr.contains("no-vm-dir"), outcomes[0].stderr)
        harness.assertNoTrace("fpvm1")
        harness.assertNoTrace("fpvm2")
    }

    func testRunMatches() throws {
        let echo = try harness.shellBundle("echo hello from run; echo to stderr >&2")
        let status = try harness.shellBundle("exit 3")
        let sleeper = try harness.shellBundle("sleep 100")
        let missing = try harness.bundle { config in
            var process = config["process"] as? [String: Any] ?? [:]
            process["args"] = ["/no/such/program"]
            config["process"] = process
        }
        let log = harness.scratch + "/run.log"
        let pidFile = harness.scratch + "/run.pid"
        let outcomes = try assertBothPathsAgree(prepare: {
            for id in ["r1", "r2", "r3", "r4", "r5"] { try harness.vessel(["delete", "--force", id]) }
        }) {
            [
                try harness.vessel(["run", "--bundle", echo, "r1"]),
                try harness.vessel(["run", "--bundle", status, "r2"]),
                try harness.vessel(["run", "-d", "--bundle", sleeper, "--pid-file", pidFile, "r3"]),
                takePIDFile(pidFile),
                try harness.vessel(["run", "--detach", "--bundle", sleeper, "r3"]),
                try harness.vessel(["delete", "--force", "r3"]),
                try harness.vessel(["run", "--bundle", missing, "r4"]),
                try harness.vessel(["run", "--bundle", harness.scratch + "/none", "r4"]),
                try harness.vessel(["--log", log, "run", "--bundle", status, "r5", "--debug"]),
                takeLog(log),
                try harness.vessel(["run", "--bundle", echo, "-x-"]),
            ]
        }
        XCTAssertEqual(outcomes.map(\.code), [0, 3, 0, 0, 1, 0, 1, 1, 3, 0, 1])
        XCTAssertEqual(outcomes[0].stdout, "hello from run\n")
        for id in ["r1", "r2", "r3", "r4", "r5"] { harness.assertNoTrace(id) }
    }

    func testExecMatches() throws {
        let sleeper = try harness.shellBundle("sleep 100")
        let process = harness.scratch + "/process.json"
        try Data(#"{"args": ["sh", "-c", "echo from process.json; exit 4"], "cwd": "/", "user": {"uid": 0, "gid": 0}, "env": ["PATH=/bin:/usr/bin"]}"#.utf8)
            .write(to: URL(fileURLWithPath: process))
        let broken = harness.scratch + "/broken.json"
        try Data(#"{"args": 5}"#.utf8).write(to: URL(fileURLWithPath: broken))
        let log = harness.scratch + "/exec.log"
        let pidFile = harness.scratch + "/exec.pid"
        let outcomes = try assertBothPathsAgree(prepare: {
            for id in ["e1", "e2"] { try harness.vessel(["delete", "--force", id]) }
            XCTAssertEqual(try harness.vessel(["run", "--detach", "--bundle", sleeper, "e1"]).code, 0)
            XCTAssertEqual(try harness.vessel(["create", "--bundle", sleeper, "e2"]).code, 0)
        }) {
            [
                try harness.vessel(["exec", "e1", "true"]),
                try harness.vessel(["exec", "e1", "false"]),
                try harness.vessel(["exec", "e1", "echo", "hello", "from", "exec"]),
                try harness.vessel(["exec", "e1", "/no/such/program"]),
                try harness.vessel(["exec", "e1"]),
                try harness.vessel(["exec", "nope", "true"]),
                try harness.vessel(["exec", "a/b", "true"]),
                try harness.vessel(["exec", "--process", process, "e1"]),
                try harness.vessel(["exec", "-p", broken, "e1"]),
                try harness.vessel(["exec", "--process=" + harness.scratch + "/none.json", "e1"]),
                try harness.vessel(["exec", "-d", "--pid-file", pidFile, "e1", "sleep", "1"]),
                takePIDFile(pidFile),
                try harness.vessel(["exec", "--detach", "e2", "true"]),
                try harness.vessel(["--log", log, "--log-format", "json", "exec", "e1", "/no/such/program"]),
                takeLog(log),
                try harness.vessel(["exec", "e1", "--debug", "true"]),
                try harness.vessel(["exec", "e1", "sh", "-c", "exit 7"]),
            ]
        }
        XCTAssertEqual(outcomes[0].code, 0, outcomes[0].stderr)
        XCTAssertEqual(outcomes[1].code, 1, "the process's own status")
        XCTAssertEqual(outcomes[2].stdout, "hello from exec\n")
        XCTAssertEqual(outcomes[3].code, 255, "exec failures exit 255, as runc's")
        XCTAssertEqual(outcomes[7].code, 4)
        XCTAssertEqual(outcomes[7].stdout, "from process.json\n")
        XCTAssertEqual(outcomes[10].code, 0, outcomes[10].stderr)
        XCTAssertEqual(outcomes[11].code, 0)
        XCTAssertEqual(outcomes[16].code, 7)
    }

    /// Forms the fast path does not take: ArgumentParser answers them, the
    /// same with or without it.
    func testOtherFormsGoThroughArgumentParser() throws {
        let link = harness.scratch + "/vessel-vm"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: Harness.vesselBinary)
        let outcomes = try assertBothPathsAgree {
            [
                try harness.vessel(["state", "--help"]),
                try harness.vessel(["kill", "x", "-h"]),
                try harness.vessel(["kill", "x", "-9"]),
                try harness.vessel(["state", "a", "b"]),
                try harness.vessel(["state"]),
                try harness.vessel(["--log-format", "xml", "state", "x"]),
                try harness.vessel(["delete", "--force=1", "x"]),
                try harness.vessel(["-f", "delete", "x"]),
                try harness.vessel(["kill", "--force", "x"]),
                try harness.vessel(["state", "x", "--systemd-cgroup"]),
                try harness.vessel(["--vm", "state", "--help"]),
                try harness.vessel(["state", "--vm-accel", "kvm", "--help"]),
                try Harness.execute(link, ["state", "--help"]),
                try harness.vessel(["create", "--help"]),
                try harness.vessel(["create", "--bundle", "x"]),
                try harness.vessel(["create", "--bundle", "x", "--bundle", "y", "z"]),
                try harness.vessel(["run", "--keep", "--bundle", harness.scratch + "/none", "x"]),
                try harness.vessel(["run", "--bundle", harness.scratch + "/none", "--vm", "x"]),
                try harness.vessel(["exec", "--tty", "x", "true"]),
                try harness.vessel(["exec", "-h"]),
                try Harness.execute(link, ["create", "--bundle", harness.scratch + "/none", "x"]),
            ]
        }
        XCTAssertEqual(outcomes[0].code, 0)
        XCTAssertTrue(outcomes[0].stdout.contains("USAGE: vessel state"), outcomes[0].stdout)
        for index in [2, 3, 4, 5, 6, 7, 8] {
            XCTAssertEqual(outcomes[index].code, 1, "\(index): \(outcomes[index].stderr)")
        }
    }
}
