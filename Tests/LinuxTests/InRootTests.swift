import Foundation
import Glibc
import Linux
import OSKit
import XCTest

// InRoot resolves paths as if its directory were "/": no symlink or ".."
// leads out. Checked on a scratch tree of hostile symlinks, by reading back
// where each returned descriptor points.
final class InRootTests: XCTestCase {
    private var rootPath = ""
    private var root: InRoot?

    override func setUpWithError() throws {
        var buffer = Array((NSTemporaryDirectory() + "/vessel-inroot-XXXXXX").utf8CString)
        guard let made = mkdtemp(&buffer) else { throw CocoaError(.fileWriteUnknown) }
        rootPath = URL(fileURLWithPath: String(cString: made)).resolvingSymlinksInPath().path
        let fm = FileManager.default
        try fm.createDirectory(atPath: rootPath + "/etc", withIntermediateDirectories: true)
        _ = fm.createFile(atPath: rootPath + "/etc/passwd", contents: Data())
        try fm.createSymbolicLink(atPath: rootPath + "/escape", withDestinationPath: "/../../etc")
        try fm.createSymbolicLink(atPath: rootPath + "/rel", withDestinationPath: "../../etc")
        try fm.createDirectory(atPath: rootPath + "/d/e", withIntermediateDirectories: true)
        try fm.createSymbolicLink(atPath: rootPath + "/d/up", withDestinationPath: "../../../..")
        try fm.createSymbolicLink(atPath: rootPath + "/d/sibling", withDestinationPath: "e")
        try fm.createSymbolicLink(atPath: rootPath + "/loop", withDestinationPath: "loop")
        root = try InRoot(rootPath)
    }

    override func tearDownWithError() throws {
        root?.close()
        try? FileManager.default.removeItem(atPath: rootPath)
    }

    /// Where an fd from `open` points, relative to the root.
    private func resolved(_ path: String) throws -> String {
        let fd = try XCTUnwrap(root).open(path)
        defer { close(fd) }
        let target = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)")
        XCTAssertTrue(target == rootPath || target.hasPrefix(rootPath + "/"), "\(path) resolved outside: \(target)")
        return String(target.dropFirst(rootPath.count))
    }

    func testAbsoluteSymlinkRestartsAtRoot() throws {
        XCTAssertEqual(try resolved("/escape/passwd"), "/etc/passwd")
    }

    func testDotDotAndRelativeSymlinksCannotLeaveRoot() throws {
        XCTAssertEqual(try resolved("/rel/passwd"), "/etc/passwd")
        XCTAssertEqual(try resolved("/d/up/etc"), "/etc")
        XCTAssertEqual(try resolved("/d/../../../etc"), "/etc")
    }

    func testRelativeSymlinkResolvesFromItsDirectory() throws {
        XCTAssertEqual(try resolved("/d/sibling"), "/d/e")
    }

    func testSymlinkLoopFails() throws {
        XCTAssertThrowsError(try XCTUnwrap(root).open("/loop/x"))
    }

    func testMakeDirectoriesThroughAnEscapingSymlinkStaysInside() throws {
        let fd = try XCTUnwrap(root).makeDirectories("/escape/new/deeper")
        close(fd)
        XCTAssertTrue(FileManager.default.fileExists(atPath: rootPath + "/etc/new/deeper"))
    }

    func testNormalized() {
        XCTAssertEqual(InRoot.normalized("/a/./b//c/../d"), "a/b/d")
        XCTAssertEqual(InRoot.normalized("/../.."), "")
    }
}
