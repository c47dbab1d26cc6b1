import OCI
import XCTest

final class ContainerIDTests: XCTestCase {
    func testAcceptsRuncStyleIDs() throws {
        XCTAssertEqual(try ContainerID("web-1_a.b+c").value, "web-1_a.b+c")
    }

    func testRejectsPathsAndBadLengths() {
        for bad in ["", ".", "..", "../x", "a/b", "a b", String(repeating: "x", count: 1025)] {
            XCTAssertThrowsError(try ContainerID(bad), bad)
        }
    }
}
