import Foundation
import XCTest

// The process that enters a container starts in place (a clone of the CLI
// going on with what it decoded) where it can, and re-executes vessel as
// `vessel init` otherwise (docs/decisions.md, "One Swift start per create
// and exec"). VESSEL_INIT_REEXEC=1 forces the fallback: the lifecycle must
// work the same either way.
final class InitFallbackTests: XCTestCase {
    var harness: Harness!

    override func setUpWithError() throws { harness = try Harness() }
    override func tearDown() {
        unsetenv("VESSEL_INIT_REEXEC")
        harness?.cleanUp()
    }

    /// create, exec in the created container, start, exec, kill, delete.
    func lifecycle(_ id: String) throws -> [String] {
        let bundle = try harness.shellBundle("echo started; sleep 100")
        let create = try harness.vessel(["--debug", "create", "--bundle", bundle, id])
        XCTAssertEqual(create.code, 0, create.stderr)
        let pid = try XCTUnwrap(try harness.state(id)?["pid"] as? Int)
        let cmdline = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? ""
        XCTAssertTrue(cmdline.hasPrefix("vessel\u{0}init\u{0}"), "ps shows `vessel init` either way: \(cmdline.debugDescription)")
        let early = try harness.vessel(["--debug", "exec", id, "sh", "-c", "echo early; exit 3"])
        XCTAssertEqual(early.code, 3, early.stderr)
        XCTAssertEqual(early.stdout, "early\n")
        XCTAssertEqual(try harness.vessel(["start", id]).code, 0)
        let late = try harness.vessel(["exec", id, "cat", "/proc/1/cmdline"])
        XCTAssertEqual(late.stdout, "sleep\u{0}100\u{0}", "the user's program is the init now (sh execs its last command)")
        XCTAssertEqual(try harness.vessel(["delete", "--force", id]).code, 0)
        harness.assertNoTrace(id)
        return [create.stderr, early.stderr]
    }

    func testTheDefaultStartsInPlace() throws {
        for line in try lifecycle("inplace") {
            XCTAssertTrue(line.contains("cloned in place"), line)
        }
    }

    func testTheForcedFallbackReexecutes() throws {
        setenv("VESSEL_INIT_REEXEC", "1", 1)
        for line in try lifecycle("reexec") {
            XCTAssertTrue(line.contains("re-executing vessel: VESSEL_INIT_REEXEC is set"), line)
            XCTAssertFalse(line.contains("cloned in place"), line)
        }
        let outcome = try harness.run(try harness.shellBundle("echo hi; exit 7"))
        XCTAssertEqual(outcome.code, 7, outcome.stderr)
        XCTAssertEqual(outcome.stdout, "hi\n")
    }

    /// A container whose processes may hold CAP_SYS_PTRACE over the host
    /// could open a non-dumpable init's /proc/<pid>/exe: it re-executes.
    func testSysPtraceFallsBackToReexec() throws {
        let bundle = try harness.shellBundle("true") { config in
            var process = config["process"] as? [String: Any] ?? [:]
            var caps = process["capabilities"] as? [String: Any] ?? [:]
            for set in ["bounding", "effective", "permitted"] {
                caps[set] = (caps[set] as? [String] ?? []) + ["CAP_SYS_PTRACE"]
            }
            process["capabilities"] = caps
            config["process"] = process
        }
        let outcome = try harness.vessel(["--debug", "run", "--bundle", bundle, "ptrace"])
        XCTAssertEqual(outcome.code, 0, outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("re-executing vessel: a process of the container may hold CAP_SYS_PTRACE"), outcome.stderr)
    }
}
