import Linux
import OCI
import XCTest

final class CgroupResourcesTests: XCTestCase {
    func testSharesToWeightMatchesRunc() {
        XCTAssertEqual(CgroupResources.weight(fromShares: 2), 1)
        XCTAssertEqual(CgroupResources.weight(fromShares: 1024), 39)
        XCTAssertEqual(CgroupResources.weight(fromShares: 262_144), 10_000)
    }
}
