import MicroVM
import XCTest

final class SupervisorExitStatusTests: XCTestCase {
    func testTheContainersStatusWins() {
        XCTAssertEqual(SupervisorExitStatus.code(container: 0, qemuWaitStatus: 9), 0)
        XCTAssertEqual(SupervisorExitStatus.code(container: 7, qemuWaitStatus: 0), 7)
    }

    /// A wait status of 0 is a normal exit with code 0: that was reported
    /// as 128 ("signal 0"); without the container's status it is a failure.
    func testQemuEndingWithoutTheContainersStatus() {
        XCTAssertEqual(SupervisorExitStatus.code(container: nil, qemuWaitStatus: 0), 1)
        XCTAssertEqual(SupervisorExitStatus.code(container: nil, qemuWaitStatus: 3 << 8), 3)
        XCTAssertEqual(SupervisorExitStatus.code(container: nil, qemuWaitStatus: 9), 137)
        XCTAssertEqual(SupervisorExitStatus.code(container: nil, qemuWaitStatus: nil), 1)
    }
}
