import Foundation
@testable import Linux
import OCI
import XCTest

final class HookRunnerTests: XCTestCase {
    /// A hook timeout of 2^32 or Int.max seconds trapped `create` (found by
    /// ConfigFuzzTests): past an Int32 of milliseconds it means no limit.
    func testPollTimeoutNeverTraps() {
        XCTAssertEqual(HookRunner.pollTimeout(seconds: 1), 1000)
        XCTAssertEqual(HookRunner.pollTimeout(seconds: Int(Int32.max) / 1000), Int32(Int(Int32.max) / 1000 * 1000))
        XCTAssertEqual(HookRunner.pollTimeout(seconds: Int(Int32.max) / 1000 + 1), -1)
        XCTAssertEqual(HookRunner.pollTimeout(seconds: 4_294_967_296), -1)
        XCTAssertEqual(HookRunner.pollTimeout(seconds: Int.max), -1)
        XCTAssertEqual(HookRunner.pollTimeout(seconds: Int.min), 0)
    }

    /// A failing hook's line carries runc's words, which runc's tests match
    /// on: which hook it was, and a signal in Go's words.
    func testAFailingHookIsNamedInRuncsWords() {
        let hooks = [Hook(path: "/bin/true", args: ["true"]), Hook(path: "/bin/sh", args: ["sh", "-c", "cat > /dev/null; kill -SYS $$"])]
        XCTAssertThrowsError(try HookRunner.run(hooks, kind: "createRuntime", state: "{}")) { error in
            let line = "\(error)"
            XCTAssertTrue(line.hasPrefix("error running createRuntime hook #1: hooks.createRuntime[1] (/bin/sh)"), line)
            XCTAssertTrue(line.contains("killed by signal 31 (bad system call)"), line)
        }
    }

    /// The same through a real hook: it runs and succeeds.
    func testHookWithHugeTimeoutRuns() throws {
        let hook = Hook(path: "/bin/true", args: ["true"], timeout: Int.max)
        XCTAssertNoThrow(try HookRunner.run([hook], kind: "prestart", state: "{}"))
    }

    /// A state larger than a pipe holds (engines' annotations can be) goes
    /// to the hook whole, while the hook writes more than a pipe holds to
    /// its stdout before it reads: neither side waits on the other (a
    /// blocking write of the state used to, until the hook's timeout).
    func testALargeStateAndALoudHookDoNotWaitOnEachOther() throws {
        let directory = NSTemporaryDirectory() + "hook-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let state = "{\"annotations\":{\"big\":\"" + String(repeating: "x", count: 300_000) + "\"}}"
        let hook = Hook(
            path: "/bin/sh", args: ["sh", "-c", "head -c 200000 /dev/zero; cat > \(directory)/got"], timeout: 20)
        let started = Date()
        XCTAssertNoThrow(try HookRunner.run([hook], kind: "prestart", state: state))
        XCTAssertLessThan(Date().timeIntervalSince(started), 10)
        let got = try Data(contentsOf: URL(fileURLWithPath: directory + "/got"))
        XCTAssertEqual(got.count, state.utf8.count)
    }

    /// A hook that reads nothing of a large state and exits succeeds.
    func testAHookThatReadsNothingOfALargeStateSucceeds() throws {
        let state = "{\"big\":\"" + String(repeating: "y", count: 300_000) + "\"}"
        let hook = Hook(path: "/bin/sh", args: ["sh", "-c", "sleep 0.2; exit 0"], timeout: 20)
        XCTAssertNoThrow(try HookRunner.run([hook], kind: "prestart", state: state))
    }
}
