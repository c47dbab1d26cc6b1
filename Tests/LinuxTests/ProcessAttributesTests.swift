import Linux
import OSKit
import XCTest

final class ProcessAttributesTests: XCTestCase {
    func testCPUList() {
        XCTAssertEqual(ProcessAttributes.cpuList("0-3,7"), [0, 1, 2, 3, 7])
        XCTAssertEqual(ProcessAttributes.cpuList("5"), [5])
        XCTAssertNil(ProcessAttributes.cpuList(""))
        XCTAssertNil(ProcessAttributes.cpuList("3-1"))
        XCTAssertNil(ProcessAttributes.cpuList("a"))
        XCTAssertNil(ProcessAttributes.cpuList("1-2-3"))
        XCTAssertNil(ProcessAttributes.cpuList("-1"))
        XCTAssertNil(ProcessAttributes.cpuList("0-99999"), "bounded: no huge allocations from a config")
    }

    func testNamesMapToTheKernelsNumbers() {
        XCTAssertEqual(ProcessAttributes.schedulerPolicies["SCHED_BATCH"], 3)
        XCTAssertEqual(ProcessAttributes.schedulerPolicies["SCHED_DEADLINE"], 6)
        XCTAssertEqual(ProcessAttributes.ioPriorityClasses["IOPRIO_CLASS_IDLE"], 3)
        XCTAssertEqual(ProcessAttributes.personalityDomains["LINUX32"], 8)
    }
}
