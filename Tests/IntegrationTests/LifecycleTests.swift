import Foundation
import XCTest

final class LifecycleTests: XCTestCase {
    var harness: Harness!

    override func setUpWithError() throws { harness = try Harness() }
    override func tearDown() { harness?.cleanUp() }

    func testRunPrintsOutputAndPassesExitStatus() throws {
        let ok = try harness.run(try harness.shellBundle("echo hello"))
        XCTAssertEqual(ok.code, 0, ok.stderr)
        XCTAssertEqual(ok.stdout, "hello\n")
        let failing = try harness.run(try harness.shellBundle("exit 7"))
        XCTAssertEqual(failing.code, 7)
        // A signal from outside: `run` exits with 128+N, as runc.
        let running = try Harness.start(
            Harness.vesselBinary,
            ["--root", harness.stateRoot, "run", "--bundle", try harness.shellBundle("sleep 100"), "sig"])
        try harness.waitForStatus("sig", "running")
        XCTAssertEqual(try harness.vessel(["kill", "sig", "KILL"]).code, 0)
        XCTAssertEqual(running.outcome().code, 128 + 9)
        harness.assertNoTrace("sig")
    }

    func testCreateStartStateKillDelete() throws {
        let bundle = try harness.shellBundle("sleep 100")
        XCTAssertEqual(try harness.vessel(["create", "--bundle", bundle, "c1"]).code, 0)
        let created = try XCTUnwrap(try harness.state("c1"))
        XCTAssertEqual(created["status"] as? String, "created")
        XCTAssertEqual(created["id"] as? String, "c1")
        XCTAssertEqual(created["bundle"] as? String, bundle)
        let pid = try XCTUnwrap(created["pid"] as? Int)
        XCTAssertGreaterThan(pid, 0)
        // The user process has not run yet: the init is still `vessel init`.
        let cmdline = try String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)
        XCTAssertTrue(cmdline.hasPrefix("vessel\u{0}init"), cmdline)

        XCTAssertEqual(try harness.vessel(["start", "c1"]).code, 0)
        XCTAssertEqual(try harness.status("c1"), "running")
        let again = try harness.vessel(["start", "c1"])
        XCTAssertNotEqual(again.code, 0)
        XCTAssertTrue(again.stderr.contains("running"), again.stderr)

        let refused = try harness.vessel(["delete", "c1"])
        XCTAssertNotEqual(refused.code, 0, "delete of a running container needs --force")

        XCTAssertEqual(try harness.vessel(["kill", "c1", "KILL"]).code, 0)
        var status: String?
        for _ in 0..<100 {
            status = try harness.status("c1")
            if status == "stopped" { break }
            usleep(20_000)
        }
        XCTAssertEqual(status, "stopped")
        XCTAssertEqual(try harness.vessel(["delete", "c1"]).code, 0)
        harness.assertNoTrace("c1")
    }

    func testProcessExitingByItselfIsStopped() throws {
        let bundle = try harness.shellBundle("true")
        XCTAssertEqual(try harness.vessel(["run", "--detach", "--bundle", bundle, "c2"]).code, 0)
        var status: String?
        for _ in 0..<100 {
            status = try harness.status("c2")
            if status == "stopped" { break }
            usleep(20_000)
        }
        XCTAssertEqual(status, "stopped")
        XCTAssertEqual(try harness.vessel(["delete", "c2"]).code, 0)
        harness.assertNoTrace("c2")
    }

    func testDeleteForceInCreatedAndRunningStates() throws {
        let bundle = try harness.shellBundle("sleep 100")
        XCTAssertEqual(try harness.vessel(["create", "--bundle", bundle, "c3"]).code, 0)
        XCTAssertEqual(try harness.vessel(["delete", "--force", "c3"]).code, 0)
        harness.assertNoTrace("c3")
        XCTAssertEqual(try harness.vessel(["run", "-d", "--bundle", bundle, "c4"]).code, 0)
        let pid = try XCTUnwrap(try harness.state("c4")?["pid"] as? Int)
        XCTAssertEqual(try harness.vessel(["delete", "--force", "c4"]).code, 0)
        harness.assertNoTrace("c4")
        XCTAssertFalse(
            FileManager.default.fileExists(atPath: "/proc/\(pid)/cmdline") && ((try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? "").contains(" S "),
            "container process still alive")
    }

    func testKillSignalForms() throws {
        let bundle = try harness.shellBundle("trap 'exit 42' USR1; while true; do sleep 0.05; done")
        XCTAssertEqual(try harness.vessel(["run", "-d", "--bundle", bundle, "k1"]).code, 0)
        usleep(200_000)
        XCTAssertEqual(try harness.vessel(["kill", "k1", "SIGUSR1"]).code, 0)
        XCTAssertEqual(try harness.vessel(["run", "-d", "--bundle", bundle, "k2"]).code, 0)
        usleep(200_000)
        XCTAssertEqual(try harness.vessel(["kill", "k2", "10"]).code, 0)
        let bad = try harness.vessel(["kill", "k2", "NOPE"])
        XCTAssertNotEqual(bad.code, 0)
        XCTAssertTrue(bad.stderr.contains("unknown signal"), bad.stderr)
    }

    func testListShowsContainers() throws {
        let bundle = try harness.shellBundle("sleep 100")
        XCTAssertEqual(try harness.vessel(["create", "--bundle", bundle, "l1"]).code, 0)
        let table = try harness.vessel(["list"])
        XCTAssertTrue(table.stdout.contains("l1"))
        XCTAssertTrue(table.stdout.contains("created"))
        let quiet = try harness.vessel(["list", "-q"])
        XCTAssertEqual(quiet.stdout, "l1\n")
        let json = try harness.vessel(["list", "--format", "json"])
        let array = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
        XCTAssertEqual(array?.first?["id"] as? String, "l1")
    }

    func testConcurrentCreateWithOneIDHasOneWinner() throws {
        let bundle = try harness.shellBundle("sleep 100")
        let running = try (0..<4).map { _ in
            try Harness.start(Harness.vesselBinary, ["--root", harness.stateRoot, "create", "--bundle", bundle, "same"])
        }
        let codes = running.map { $0.outcome().code }
        XCTAssertEqual(codes.filter { $0 == 0 }.count, 1, "codes: \(codes)")
        XCTAssertEqual(try harness.status("same"), "created")
    }

    func testPauseAndResume() throws {
        let bundle = try harness.shellBundle("sleep 100")
        XCTAssertEqual(try harness.vessel(["run", "-d", "--bundle", bundle, "p1"]).code, 0)
        XCTAssertEqual(try harness.vessel(["pause", "p1"]).code, 0)
        XCTAssertEqual(try harness.status("p1"), "paused")
        XCTAssertEqual(try harness.vessel(["resume", "p1"]).code, 0)
        XCTAssertEqual(try harness.status("p1"), "running")
    }

    func testSpecWritesAConfigThatRuns() throws {
        let dir = harness.scratch + "/spec"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        XCTAssertEqual(try harness.vessel(["spec", "--bundle", dir]).code, 0)
        let second = try harness.vessel(["spec", "--bundle", dir])
        XCTAssertNotEqual(second.code, 0, "spec must not overwrite")
        let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/config.json"))
        var config = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        config["root"] = ["path": Harness.rootfs, "readonly": true]
        config.setProcess("terminal", false)
        config.setProcess("args", ["echo", "from-spec"])
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: dir + "/config.json"))
        let outcome = try harness.run(dir)
        XCTAssertEqual(outcome.code, 0, outcome.stderr)
        XCTAssertEqual(outcome.stdout, "from-spec\n")
    }

    func testVersionAndFeatures() throws {
        let version = try harness.vessel(["--version"])
        XCTAssertTrue(version.stdout.contains("spec: 1.0.2"), version.stdout)
        XCTAssertTrue(version.stdout.contains("libseccomp: 2."), version.stdout)
        let features = try harness.vessel(["features"])
        let doc = try JSONSerialization.jsonObject(with: Data(features.stdout.utf8)) as? [String: Any]
        let linux = doc?["linux"] as? [String: Any]
        XCTAssertEqual((linux?["cgroup"] as? [String: Any])?["v2"] as? Bool, true)
        XCTAssertTrue((linux?["capabilities"] as? [String])?.contains("CAP_SYS_ADMIN") == true)
    }
}

final class CrashRecoveryTests: XCTestCase {
    var harness: Harness!

    override func setUpWithError() throws { harness = try Harness() }
    override func tearDown() { harness?.cleanUp() }

    /// `create` killed midway (while a createRuntime hook runs): the init
    /// dies with it, `state` says stopped, and `delete` removes every trace.
    func testStateIsRightAfterCreateIsKilledMidway() throws {
        let bundle = try harness.shellBundle("sleep 100") {
            $0["hooks"] = ["createRuntime": [["path": "/bin/sleep", "args": ["sleep", "3"]]]]
        }
        let create = try Harness.start(Harness.vesselBinary, ["--root", harness.stateRoot, "create", "--bundle", bundle, "crash"])
        var pid = 0
        for _ in 0..<250 {
            pid = (try harness.state("crash")?["pid"] as? Int) ?? 0
            if pid > 0 { break }
            usleep(20_000)
        }
        XCTAssertGreaterThan(pid, 0, "create never recorded the init")
        usleep(200_000)
        kill(create.pid, SIGKILL)
        XCTAssertEqual(create.outcome().code, 128 + 9)
        XCTAssertEqual(try harness.waitForStatus("crash", "stopped"), "stopped")
        XCTAssertEqual(try harness.vessel(["delete", "crash"]).code, 0)
        harness.assertNoTrace("crash")
    }
}
