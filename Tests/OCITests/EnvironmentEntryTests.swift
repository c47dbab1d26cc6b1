import OCI
import XCTest

final class EnvironmentEntryTests: XCTestCase {
    func testProblems() {
        XCTAssertNil(EnvironmentEntry.problem("A=b"))
        XCTAssertNil(EnvironmentEntry.problem("EMPTY="))
        XCTAssertNil(EnvironmentEntry.problem("EQ=a=b"))
        XCTAssertNotNil(EnvironmentEntry.problem("NOEQUALS"))
        XCTAssertNotNil(EnvironmentEntry.problem("=value"))
        XCTAssertNotNil(EnvironmentEntry.problem("A=b\0c"))
    }

    func testMergedKeepsTheLastValueAtTheFirstPlace() {
        XCTAssertEqual(EnvironmentEntry.merged(["A=1", "P=/bin", "A=2", "B=x", "A="]), ["A=", "P=/bin", "B=x"])
        XCTAssertEqual(EnvironmentEntry.merged(["A=a=b", "A=c"]), ["A=c"])
        XCTAssertEqual(EnvironmentEntry.merged([]), [])
    }
}
