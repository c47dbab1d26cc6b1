import Foundation
import Glibc
import OSKit
import XCTest

// FileIO's readers and listings, on a scratch directory.
final class FileIOTests: XCTestCase {
    private var scratch = ""

    override func setUpWithError() throws {
        var template = Array((NSTemporaryDirectory() + "/vessel-fileio-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw CocoaError(.fileWriteUnknown) }
        scratch = String(cString: made)
    }

    override func tearDown() { FileIO.removeTree(scratch) }

    /// Directories, and symlinks to directories (as isDirectory follows
    /// them), sorted; files, links to files and dangling links are not.
    func testSubdirectoriesByEntryType() throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: scratch + "/b", withIntermediateDirectories: false)
        try fm.createDirectory(atPath: scratch + "/a", withIntermediateDirectories: false)
        _ = fm.createFile(atPath: scratch + "/file", contents: Data())
        try fm.createSymbolicLink(atPath: scratch + "/c-to-dir", withDestinationPath: "b")
        try fm.createSymbolicLink(atPath: scratch + "/to-file", withDestinationPath: "file")
        try fm.createSymbolicLink(atPath: scratch + "/dangling", withDestinationPath: "nowhere")
        XCTAssertEqual(FileIO.listSubdirectories(scratch), ["a", "b", "c-to-dir"])
        XCTAssertEqual(
            FileIO.listSubdirectories(scratch), FileIO.listDirectory(scratch).filter { FileIO.isDirectory(scratch + "/" + $0) })
        XCTAssertEqual(FileIO.listSubdirectories(scratch + "/missing"), [])
    }

    /// Files larger than one read, and empty ones, read whole.
    func testReadsWholeFilesOfAnySize() throws {
        for size in [0, 1, 4095, FileIO.readChunk, FileIO.readChunk * 2 + 17] {
            let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            let path = scratch + "/f\(size)"
            XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
            XCTAssertEqual(try FileIO.readBytes(path), bytes, "\(size) bytes")
        }
        XCTAssertThrowsError(try FileIO.readBytes(scratch + "/missing"))
    }

    /// The written-out join is the standard library's.
    func testConcatenatedIsJoined() {
        for parts in [[], [""], ["a"], ["", "b"], ["mode=755", "size=65536k"], ["a", "", "c", ""]] {
            XCTAssertEqual(parts.concatenated(separator: ","), parts.joined(separator: ","), "\(parts)")
        }
    }
}
