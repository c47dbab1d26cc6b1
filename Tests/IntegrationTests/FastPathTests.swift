import Foundation
import XCTest

// `state`, `start`, `kill` and `delete` have a hand-written fast path
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
    func assertBothPathsAgree(prepare: () throws -> Void = {}, _ steps: () throws -> [Outcome],
                              file: StaticString = #filePath, line: UInt = #line) throws -> [Outcome] {
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
            XCTAssertEqual(a.stderr, b.stderr, "step \(index): stderr", file: file, line: line)
        }
        return fast
    }

    /// The log file's lines with the (second-resolution) time masked; the
    /// file is removed so the next run starts afresh.
    func takeLog(_ path: String) -> Outcome {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? "<no log file>"
        try? FileManager.default.removeItem(atPath: path)
        let masked = text.replacingOccurrences(of: #"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"#, with: "TIME",
                                               options: .regularExpression)
        return Outcome(code: 0, stdout: masked, stderr: "")
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
        XCTAssertTrue(outcomes[0].stdout.contains("\"status\" : \"created\""), outcomes[0].stdout)
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
            ]
        }
        XCTAssertEqual(outcomes[0].code, 0)
        XCTAssertTrue(outcomes[0].stdout.contains("USAGE: vessel state"), outcomes[0].stdout)
        for index in [2, 3, 4, 5, 6, 7, 8] {
            XCTAssertEqual(outcomes[index].code, 64, "\(index): \(outcomes[index].stderr)")
        }
    }
}
