import OCI
import XCTest

final class MemorySizeTests: XCTestCase {
    func testUnitsArePowersOf1024InAnyCase() {
        XCTAssertEqual(MemorySize.parse("4096"), 4096)
        XCTAssertEqual(MemorySize.parse("100m"), 100 << 20)
        XCTAssertEqual(MemorySize.parse("100M"), 100 << 20)
        XCTAssertEqual(MemorySize.parse("1g"), 1 << 30)
        XCTAssertEqual(MemorySize.parse("512 KiB"), 512 << 10)
        XCTAssertEqual(MemorySize.parse("2kb"), 2048)
        XCTAssertEqual(MemorySize.parse("1.5G"), 3 << 29)
        XCTAssertEqual(MemorySize.parse("7b"), 7)
        XCTAssertEqual(MemorySize.parse("1p"), 1 << 50)
    }

    func testMinusOneIsUnlimitedAndOtherFormsAreRefused() {
        XCTAssertEqual(MemorySize.parse("-1"), -1)
        for bad in ["", "lots", "-2", "1.", ".5", "1.2.3", "10x", "10mm", "  10", "1e3", "99999999p", "١٠"] {
            XCTAssertNil(MemorySize.parse(bad), bad)
        }
        XCTAssertThrowsError(try MemorySize.parse("lots", flag: "memory")) { error in
            XCTAssertEqual("\(error)", "invalid value for memory: invalid size: 'lots'")
        }
    }
}
