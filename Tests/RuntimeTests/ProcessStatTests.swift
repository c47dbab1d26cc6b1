import Foundation
import Glibc
@testable import Runtime
import XCTest

// /proc/<pid>/stat read as bytes gives what the String parse it replaced
// gave, also for a command name with spaces and parentheses.
final class ProcessStatTests: XCTestCase {
    /// The former parse, kept as the reference.
    private func reference(_ pid: Int32) throws -> (state: Character, parent: Int32, start: UInt64) {
        let text = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        let close = try XCTUnwrap(text.lastIndex(of: ")"))
        let fields = text[text.index(after: close)...].split(separator: " ")
        return (try XCTUnwrap(fields[0].first), try XCTUnwrap(Int32(fields[1])), try XCTUnwrap(UInt64(fields[19])))
    }

    func testFieldsMatchTheStringParse() throws {
        let stat = try XCTUnwrap(ProcessStat(pid: getpid()))
        let expected = try reference(getpid())
        XCTAssertEqual(stat.state, expected.state)
        XCTAssertEqual(stat.parentPID, getppid())
        XCTAssertEqual(stat.startTime, expected.start)
        // pid 1: another process, asleep.
        let initStat = try XCTUnwrap(ProcessStat(pid: 1))
        XCTAssertEqual(initStat.startTime, try reference(1).start)
        XCTAssertEqual(initStat.state, try reference(1).state)
    }

    func testCommandNameWithParenthesesAndSpaces() throws {
        let comm = "/proc/self/comm"
        let saved = try String(contentsOfFile: comm, encoding: .utf8)
        defer { try? saved.write(toFile: comm, atomically: false, encoding: .utf8) }
        try ") 1 2 (x) y".write(toFile: comm, atomically: false, encoding: .utf8)
        XCTAssertTrue(try String(contentsOfFile: "/proc/self/stat", encoding: .utf8).contains("() 1 2 (x) y)"))
        let stat = try XCTUnwrap(ProcessStat(pid: getpid()))
        XCTAssertEqual(stat.parentPID, getppid())
        XCTAssertEqual(stat.startTime, try reference(getpid()).start)
    }

    func testNoProcess() {
        XCTAssertNil(ProcessStat(pid: 0))
        XCTAssertNil(ProcessStat(pid: -1))
        XCTAssertNil(ProcessStat(pid: Int32.max))
    }
}
