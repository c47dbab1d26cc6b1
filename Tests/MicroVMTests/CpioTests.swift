@testable import MicroVM
import XCTest

final class CpioTests: XCTestCase {
    func testNewcHeaderNameDataAndPadding() {
        var archive = CpioArchive()
        archive.file("init", mode: 0o755, data: Array("hi".utf8))
        archive.finish()
        let text = String(decoding: archive.bytes, as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("070701"))
        // mode field (second) is a regular file with 0755.
        XCTAssertEqual(String(text.dropFirst(6 + 8).prefix(8)), "000081ed")
        // file size field (seventh) is 2, name size (twelfth) is 5 with its NUL.
        XCTAssertEqual(String(text.dropFirst(6 + 6 * 8).prefix(8)), "00000002")
        XCTAssertEqual(String(text.dropFirst(6 + 11 * 8).prefix(8)), "00000005")
        XCTAssertEqual(archive.bytes.count % 4, 0)
        XCTAssertTrue(text.contains("TRAILER!!!"))
    }

    func testHex8() {
        XCTAssertEqual(String(decoding: CpioArchive.hex8(0xabc), as: UTF8.self), "00000abc")
    }
}
