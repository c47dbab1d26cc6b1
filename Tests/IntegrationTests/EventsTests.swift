import Foundation
import XCTest

final class EventsTests: XCTestCase {
    var harness: Harness!

    override func setUpWithError() throws { harness = try Harness() }
    override func tearDown() { harness?.cleanUp() }

    /// CPU time burnt inside the container shows up in the stats event.
    func testStatsOnceInRuncShape() throws {
        let bundle = try harness.shellBundle("i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; sleep 100")
        XCTAssertEqual(try harness.vessel(["run", "-d", "--bundle", bundle, "ev1"]).code, 0)
        usleep(300_000)
        let outcome = try harness.vessel(["events", "--stats", "ev1"])
        XCTAssertEqual(outcome.code, 0, outcome.stderr)
        let event = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(event["type"] as? String, "stats")
        XCTAssertEqual(event["id"] as? String, "ev1")
        let usage = ((event["data"] as? [String: Any])?["cpu"] as? [String: Any])?["usage"] as? [String: Any]
        XCTAssertGreaterThan(usage?["total"] as? Int ?? 0, 0)
    }

    func testStreamEndsWhenTheContainerStops() throws {
        XCTAssertEqual(try harness.vessel(["run", "-d", "--bundle", try harness.shellBundle("sleep 1"), "ev2"]).code, 0)
        let outcome = try harness.vessel(["events", "--interval", "0.2s", "ev2"])
        XCTAssertEqual(outcome.code, 0, outcome.stderr)
        let lines = outcome.stdout.split(separator: "\n")
        XCTAssertGreaterThanOrEqual(lines.count, 2, outcome.stdout)
        XCTAssertTrue(lines.allSatisfy { $0.contains("\"type\":\"stats\"") })
    }
}
