import Foundation
import Glibc
import Linux
import XCTest

final class SecurePathTests: XCTestCase {
    private var root: String!

    override func setUpWithError() throws {
        var buffer = Array((NSTemporaryDirectory() + "/vessel-securepath-XXXXXX").utf8CString)
        guard let made = mkdtemp(&buffer) else { throw CocoaError(.fileWriteUnknown) }
        // Resolve so the root itself has no symlinks in it.
        root = URL(fileURLWithPath: String(cString: made)).resolvingSymlinksInPath().path
        let fm = FileManager.default
        try fm.createSymbolicLink(atPath: root + "/escape", withDestinationPath: "/../../etc")
        try fm.createSymbolicLink(atPath: root + "/rel", withDestinationPath: "../../x")
        try fm.createDirectory(atPath: root + "/d/e", withIntermediateDirectories: true)
        try fm.createSymbolicLink(atPath: root + "/d/up", withDestinationPath: "../../../..")
        try fm.createSymbolicLink(atPath: root + "/d/sibling", withDestinationPath: "e")
        try fm.createSymbolicLink(atPath: root + "/loop", withDestinationPath: "loop")
    }

    override func tearDownWithError() throws {
        if let root { try? FileManager.default.removeItem(atPath: root) }
    }

    func testAbsoluteSymlinkRestartsAtRoot() {
        XCTAssertEqual(SecurePath.join(root: root, "/escape/passwd"), root + "/etc/passwd")
    }

    func testDotDotCannotLeaveRoot() {
        XCTAssertEqual(SecurePath.join(root: root, "/a/../../b"), root + "/b")
        XCTAssertEqual(SecurePath.join(root: root, "../../../b"), root + "/b")
    }

    func testRelativeSymlinkCannotLeaveRoot() {
        XCTAssertEqual(SecurePath.join(root: root, "rel"), root + "/x")
        XCTAssertEqual(SecurePath.join(root: root, "/d/up/etc"), root + "/etc")
    }

    func testRelativeSymlinkResolvesFromItsDirectory() {
        XCTAssertEqual(SecurePath.join(root: root, "/d/sibling/f"), root + "/d/e/f")
    }

    func testPlainPathsAndDots() {
        XCTAssertEqual(SecurePath.join(root: root, "/d/./e//f"), root + "/d/e/f")
        XCTAssertEqual(SecurePath.join(root: root, "/"), root + "/")
    }

    /// A 64 KiB mount destination took create 36 s (found by ConfigFuzzTests):
    /// past PATH_MAX nothing can be a symlink, so nothing is looked up.
    func testHugePathIsResolvedQuickly() {
        let huge = String(repeating: "/a", count: 40_000)
        let started = Date()
        XCTAssertEqual(SecurePath.join(root: root, huge + "/../b"), root + String(repeating: "/a", count: 39_999) + "/b")
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
        XCTAssertEqual(SecurePath.join(root: root, "/d/e" + String(repeating: "/x/..", count: 10_000) + "/../sibling/f"),
                       root + "/d/e/f")
    }

    func testSymlinkLoopTerminates() {
        let result = SecurePath.join(root: root, "/loop/x")
        XCTAssertTrue(result.hasPrefix(root + "/"), result)
    }
}
