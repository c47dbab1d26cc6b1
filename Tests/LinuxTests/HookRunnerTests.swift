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

    /// The same through a real hook: it runs and succeeds.
    func testHookWithHugeTimeoutRuns() throws {
        let hook = Hook(path: "/bin/true", args: ["true"], timeout: Int.max)
        XCTAssertNoThrow(try HookRunner.run([hook], kind: "prestart", state: "{}"))
    }
}
