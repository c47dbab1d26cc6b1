import Foundation
import XCTest

final class UpdateTests: XCTestCase {
    var harness: Harness!

    override func setUpWithError() throws { harness = try Harness() }
    override func tearDown() { harness?.cleanUp() }

    func controllers() -> [String] {
        ((try? String(contentsOfFile: "/sys/fs/cgroup/cgroup.controllers", encoding: .utf8)) ?? "")
            .split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
    }

    func testUpdateWritesTheCgroupFromAResourcesFile() throws {
        guard controllers().contains("hugetlb"), FileManager.default.fileExists(atPath: "/sys/kernel/mm/hugepages/hugepages-2048kB") else {
            throw XCTSkip("no hugetlb controller with 2 MB pages on this host")
        }
        XCTAssertEqual(try harness.vessel(["run", "-d", "--bundle", try harness.shellBundle("sleep 100"), "u1"]).code, 0)
        let file = harness.scratch + "/resources.json"
        try #"{"hugepageLimits":[{"pageSize":"2MB","limit":4194304}]}"#.write(toFile: file, atomically: true, encoding: .utf8)
        let outcome = try harness.vessel(["update", "--resources", file, "u1"])
        XCTAssertEqual(outcome.code, 0, outcome.stderr)
        let value = try String(contentsOfFile: "/sys/fs/cgroup/vessel/u1/hugetlb.2MB.max", encoding: .utf8)
        XCTAssertEqual(value.trimmingCharacters(in: .whitespacesAndNewlines), "4194304")
    }

    func testUpdateWithAnUnavailableControllerNamesIt() throws {
        guard !controllers().contains("memory") else { throw XCTSkip("memory controller available: the live limit is covered by unit tests") }
        XCTAssertEqual(try harness.vessel(["run", "-d", "--bundle", try harness.shellBundle("sleep 100"), "u2"]).code, 0)
        let outcome = try harness.vessel(["update", "--memory", "67108864", "u2"])
        XCTAssertNotEqual(outcome.code, 0)
        XCTAssertTrue(outcome.stderr.contains("memory") && outcome.stderr.contains("linux.resources.memory.limit"), outcome.stderr)
        XCTAssertEqual(outcome.stderr.split(separator: "\n").count, 1)
        XCTAssertEqual(try harness.status("u2"), "running")
    }

    func testUpdateRejectsBadInput() throws {
        XCTAssertEqual(try harness.vessel(["run", "-d", "--bundle", try harness.shellBundle("sleep 100"), "u3"]).code, 0)
        let file = harness.scratch + "/bad.json"
        try #"{"pids": {"limit": "many"}}"#.write(toFile: file, atomically: true, encoding: .utf8)
        let outcome = try harness.vessel(["update", "--resources", file, "u3"])
        XCTAssertNotEqual(outcome.code, 0)
        XCTAssertTrue(outcome.stderr.contains("pids.limit"), outcome.stderr)
        XCTAssertTrue(try harness.vessel(["update", "--pids-limit", "5", "ghost"]).stderr.contains("does not exist"))
    }
}
