import Foundation
import XCTest

// Every bad input: one line on stderr naming the problem, a non-zero exit,
// and nothing left behind (state directory, cgroup, mount).
final class BadInputTests: XCTestCase {
    var harness: Harness!

    override func setUpWithError() throws { harness = try Harness() }
    override func tearDown() { harness?.cleanUp() }

    /// Runs `create` on the bundle and checks the failure's shape.
    func assertCreateFails(
        _ bundle: String, id: String = "bad", mentions needles: [String],
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let outcome = try harness.vessel(["create", "--bundle", bundle, id])
        assertOneLineFailure(outcome, mentions: needles, file: file, line: line)
        harness.assertNoTrace(id, file: file, line: line)
    }

    func assertOneLineFailure(
        _ outcome: Outcome, mentions needles: [String],
        file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertNotEqual(outcome.code, 0, "expected failure", file: file, line: line)
        let lines = outcome.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, "stderr: \(outcome.stderr)", file: file, line: line)
        for needle in needles {
            XCTAssertTrue(outcome.stderr.contains(needle), "\(needle) not in: \(outcome.stderr)", file: file, line: line)
        }
    }

    func writeConfig(_ text: String) throws -> String {
        let dir = harness.scratch + "/raw-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try text.write(toFile: dir + "/config.json", atomically: true, encoding: .utf8)
        return dir
    }

    func testMalformedJSON() throws {
        try assertCreateFails(try writeConfig("{\"ociVersion\": \"1.0.2\", "), mentions: ["config.json", "not valid JSON"])
    }

    func testWrongFieldType() throws {
        let bundle = try harness.bundle { $0.setProcess("args", "sh") }
        try assertCreateFails(bundle, mentions: ["process.args", "expected an array"])
    }

    func testUnknownNamespaceType() throws {
        let bundle = try harness.bundle { $0.setLinux("namespaces", [["type": "pid"], ["type": "foo"]]) }
        try assertCreateFails(bundle, mentions: ["linux.namespaces[1]"])
    }

    /// A value quoted in an error keeps its line breaks, NUL and escapes
    /// escaped, wherever the message comes from. Found by ConfigFuzzTests.
    func testQuotedValuesWithLineBreaksStayOnOneLine() throws {
        let cases: [(String, (inout [String: Any]) -> Void)] = [
            ("root.path", { $0["root"] = ["path": "/nonexistent\nsecond"] }),
            ("rlimit", { $0.setProcess("rlimits", [["type": "RLIMIT_X\r\nY", "hard": 1, "soft": 1]]) }),
            ("hook", { $0["hooks"] = ["prestart": [["path": "/nonexistent\u{1B}[2J\nhook"]]] }),
            ("cgroup", { $0.setLinux("cgroupsPath", "/vessel/oneline\nx") }),
            ("nul", { $0.setProcess("rlimits", [["type": "RLIMIT_X\u{0}Y", "hard": 1, "soft": 1]]) }),
        ]
        for (index, (name, modify)) in cases.enumerated() {
            let bundle = try harness.shellBundle("true", modify)
            let outcome = try harness.vessel(["create", "--bundle", bundle, "oneline\(index)"])
            XCTAssertNotEqual(outcome.code, 0, name)
            XCTAssertEqual(outcome.stderr.split(separator: "\n").count, 1, "\(name): \(outcome.stderr.debugDescription)")
            XCTAssertTrue(outcome.stderr.hasSuffix("\n"), "\(name): \(outcome.stderr.debugDescription)")
            XCTAssertFalse(outcome.stderr.contains("\u{1B}") || outcome.stderr.contains("\r"), name)
            harness.assertNoTrace("oneline\(index)")
        }
    }

    func testBadContainerIDs() throws {
        let bundle = try harness.shellBundle("true")
        for id in ["../escape", "a/b", ".."] {
            let outcome = try harness.vessel(["create", "--bundle", bundle, id])
            assertOneLineFailure(outcome, mentions: ["container id"])
        }
        let long = try harness.vessel(["create", "--bundle", bundle, String(repeating: "x", count: 2000)])
        assertOneLineFailure(long, mentions: ["1024"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: harness.stateRoot), [])
        XCTAssertFalse(FileManager.default.fileExists(atPath: harness.stateRoot + "/../escape"))
    }

    func testMissingRootfs() throws {
        let bundle = try harness.bundle { $0["root"] = ["path": "/nonexistent/rootfs"] }
        try assertCreateFails(bundle, mentions: ["root.path", "/nonexistent/rootfs"])
    }

    func testMissingBundleAndConfig() throws {
        assertOneLineFailure(try harness.vessel(["create", "--bundle", "/nonexistent-bundle", "nb"]), mentions: ["/nonexistent-bundle"])
        let empty = harness.scratch + "/empty"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        try assertCreateFails(empty, mentions: ["config.json", "No such file"])
    }

    func testEmptyArgs() throws {
        let bundle = try harness.bundle { $0.setProcess("args", [String]()) }
        try assertCreateFails(bundle, mentions: ["process.args"])
    }

    func testMissingExecutable() throws {
        let bundle = try harness.bundle { $0.setProcess("args", ["no-such-program"]) }
        try assertCreateFails(bundle, mentions: ["no-such-program", "not found in $PATH"])
    }

    /// runc's run.bats: --preserve-fds naming an fd the caller did not open, in runc's words.
    func testPreservedFDTheCallerDidNotOpen() throws {
        let bundle = try harness.shellBundle("true")
        let outcome = try Harness.execute(
            "/bin/sh", ["-c", "exec 3>&-; exec \"$0\" --root \"$1\" run --preserve-fds 1 -b \"$2\" nofd", Harness.vesselBinary, harness.stateRoot, bundle])
        assertOneLineFailure(outcome, mentions: ["preserved-fd 0"])
        harness.assertNoTrace("nofd")
    }

    func testRlimitAboveHostHardLimit() throws {
        var host = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &host)
        guard host.rlim_max < 1 << 30 else { throw XCTSkip("the host's nofile hard limit is unlimited") }
        let bundle = try harness.shellBundle("true") {
            $0.setProcess("rlimits", [["type": "RLIMIT_NOFILE", "soft": 1024, "hard": Int(host.rlim_max) + 1000]])
        }
        try assertCreateFails(bundle, mentions: ["RLIMIT_NOFILE", "process.rlimits"])
    }

    func testUnavailableCgroupController() throws {
        let controllers = (try? String(contentsOfFile: "/sys/fs/cgroup/cgroup.controllers", encoding: .utf8)) ?? ""
        guard !controllers.split(separator: " ").contains(where: { $0.trimmingCharacters(in: .whitespacesAndNewlines) == "memory" }) else {
            throw XCTSkip("the memory controller is available here; the unavailable-controller path cannot be exercised")
        }
        let bundle = try harness.shellBundle("true") { $0.setLinux("resources", ["memory": ["limit": 64 << 20]]) }
        try assertCreateFails(bundle, mentions: ["memory", "linux.resources.memory.limit"])
    }

    func testOperationsInTheWrongState() throws {
        assertOneLineFailure(try harness.vessel(["start", "ghost"]), mentions: ["ghost", "does not exist"])
        assertOneLineFailure(try harness.vessel(["state", "ghost"]), mentions: ["does not exist"])
        assertOneLineFailure(try harness.vessel(["kill", "ghost"]), mentions: ["does not exist"])
        assertOneLineFailure(try harness.vessel(["delete", "ghost"]), mentions: ["does not exist"])
        XCTAssertEqual(try harness.vessel(["delete", "--force", "ghost"]).code, 0, "runc ignores a missing container with --force")

        let bundle = try harness.shellBundle("sleep 100")
        XCTAssertEqual(try harness.vessel(["create", "--bundle", bundle, "w1"]).code, 0)
        assertOneLineFailure(try harness.vessel(["create", "--bundle", bundle, "w1"]), mentions: ["w1", "already exists"])
        // As runc: a created container pauses, and resumes to created.
        XCTAssertEqual(try harness.vessel(["pause", "w1"]).code, 0)
        XCTAssertEqual(try harness.state("w1")?["status"] as? String, "paused")
        assertOneLineFailure(try harness.vessel(["start", "w1"]), mentions: ["start", "paused"])
        XCTAssertEqual(try harness.vessel(["resume", "w1"]).code, 0)
        XCTAssertEqual(try harness.state("w1")?["status"] as? String, "created")
        XCTAssertEqual(try harness.vessel(["start", "w1"]).code, 0)
        assertOneLineFailure(try harness.vessel(["start", "w1"]), mentions: ["start", "running"])
        assertOneLineFailure(try harness.vessel(["delete", "w1"]), mentions: ["delete", "running"])
        XCTAssertEqual(try harness.vessel(["kill", "w1", "KILL"]).code, 0)
        XCTAssertEqual(try harness.waitForStatus("w1", "stopped"), "stopped")
        assertOneLineFailure(try harness.vessel(["kill", "w1"]), mentions: ["kill", "stopped"])
        assertOneLineFailure(try harness.vessel(["start", "w1"]), mentions: ["start", "stopped"])
        XCTAssertEqual(try harness.vessel(["delete", "w1"]).code, 0)
        harness.assertNoTrace("w1")
    }

    func testErrorIsWrittenToTheJSONLog() throws {
        let log = harness.scratch + "/vessel.log"
        let outcome = try harness.vessel(["--log", log, "--log-format", "json", "start", "ghost"])
        XCTAssertNotEqual(outcome.code, 0)
        let text = try String(contentsOfFile: log, encoding: .utf8)
        let entry = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        XCTAssertEqual(entry["level"] as? String, "error")
        XCTAssertEqual(entry["msg"] as? String, "container ghost does not exist")
        XCTAssertNotNil(entry["time"] as? String)
    }

    func testSystemdCgroupIsRefusedClearly() throws {
        assertOneLineFailure(try harness.vessel(["--systemd-cgroup", "list"]), mentions: ["--systemd-cgroup", "not supported"])
    }

    func testUnimplementedCommandsSaySo() throws {
        assertOneLineFailure(try harness.vessel(["checkpoint", "x"]), mentions: ["checkpoint", "not supported", "CRIU"])
    }

    func testTerminalWithoutConsoleSocket() throws {
        let bundle = try harness.shellBundle("true") { $0.setProcess("terminal", true) }
        try assertCreateFails(bundle, mentions: ["console-socket"])
    }

    func testNoPivotStillRuns() throws {
        let outcome = try harness.vessel(["run", "--no-pivot", "--bundle", try harness.shellBundle("echo moved"), "np"])
        XCTAssertEqual(outcome.code, 0, outcome.stderr)
        XCTAssertEqual(outcome.stdout, "moved\n")
        harness.assertNoTrace("np")
    }

    /// A seccomp profile that refuses what the init reports with: `create`
    /// neither hangs nor leaves anything (found by the compare probes).
    func testSeccompThatBlocksTheInitsChannelDoesNotHang() throws {
        for names in [["sendmsg", "sendto"], ["sendmsg", "sendto", "write"]] {
            let bundle = try harness.shellBundle("true") { config in
                config.setLinux(
                    "seccomp",
                    [
                        "defaultAction": "SCMP_ACT_ALLOW",
                        "syscalls": [["names": names, "action": "SCMP_ACT_ERRNO", "errnoRet": 1]],
                    ])
            }
            let id = "seccompchan"
            let running = try Harness.start(Harness.vesselBinary, ["--root", harness.stateRoot, "run", "--bundle", bundle, id])
            guard running.wait(timeoutSeconds: 20) else {
                kill(running.pid, SIGKILL)
                _ = running.outcome()
                return XCTFail("run hung with \(names) refused")
            }
            let outcome = running.outcome()
            if names.contains("write") {
                XCTAssertNotEqual(outcome.code, 0)
                XCTAssertEqual(outcome.stderr.split(separator: "\n").count, 1, outcome.stderr)
            } else {
                XCTAssertEqual(outcome.code, 0, "write still reports ready: \(outcome.stderr)")
            }
            harness.assertNoTrace(id)
        }
    }
}
