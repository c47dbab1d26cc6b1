import Glibc
import Linux
import OSKit
import XCTest

final class MountOptionsTests: XCTestCase {
    func testTmpfsFlagsAndData() {
        let options = MountOptions(["nosuid", "nodev", "ro", "mode=755", "size=65536k"], type: "tmpfs")
        XCTAssertEqual(options.flags, UInt(MS_NOSUID) | UInt(MS_NODEV) | UInt(MS_RDONLY))
        XCTAssertEqual(options.data, ["mode=755", "size=65536k"])
        XCTAssertFalse(options.isBind)
        XCTAssertEqual(options.propagation, [])
    }

    func testRbindReadOnlyIsReadOnlyAllTheWayDown() {
        let options = MountOptions(["rbind", "ro"], type: "none")
        XCTAssertTrue(options.isBind)
        XCTAssertEqual(options.flags & UInt(MS_BIND | MS_REC), UInt(MS_BIND | MS_REC))
        XCTAssertEqual(options.attributes.set & 0x1, 0x1, "the top mount is read-only")
        XCTAssertEqual(options.recursiveAttributes.set & 0x1, 0x1, "and every submount")
    }

    func testPlainBindReadOnlyIsTopOnly() {
        let options = MountOptions(["bind", "ro", "nosuid"], type: nil)
        XCTAssertEqual(options.attributes.set, 0x1 | 0x2)
        XCTAssertTrue(options.recursiveAttributes.isEmpty)
        XCTAssertTrue(MountOptions(["rbind"], type: nil).attributes.isEmpty)
    }

    func testRecursiveOptions() {
        let options = MountOptions(["rbind", "rro", "rnosuid", "rnoexec", "rnoatime"], type: nil)
        XCTAssertEqual(options.recursiveAttributes.set, 0x1 | 0x2 | 0x8 | 0x10)
        XCTAssertEqual(options.recursiveAttributes.clear & 0x70, 0x70, "an atime mode clears the field first")
        XCTAssertEqual(options.data, [], "recursive options are not filesystem data")
        XCTAssertEqual(MountOptions(["rbind", "rrw"], type: nil).recursiveAttributes.clear, 0x1)
    }

    func testUnknownOptionOnBindIsReported() {
        XCTAssertEqual(MountOptions(["rbind", "ro", "size=10", "bogus"], type: nil).unknownForBind, ["size=10", "bogus"])
        XCTAssertEqual(MountOptions(["size=10"], type: "tmpfs").unknownForBind, [])
    }

    func testRwAfterRoClears() {
        let options = MountOptions(["ro", "nosuid", "rw"], type: "tmpfs")
        XCTAssertEqual(options.flags & UInt(MS_RDONLY), 0)
        XCTAssertEqual(options.flags, UInt(MS_NOSUID))
        // Later option wins the other way round too.
        XCTAssertEqual(MountOptions(["rw", "ro"], type: nil).flags, UInt(MS_RDONLY))
    }

    func testPropagation() {
        let options = MountOptions(["rbind", "rprivate"], type: nil)
        XCTAssertEqual(options.propagation, [UInt(MS_PRIVATE) | UInt(MS_REC)])
        XCTAssertEqual(options.flags & UInt(MS_PRIVATE), 0, "propagation is not a mount flag")
        XCTAssertEqual(MountOptions.propagation(named: "rslave"), UInt(MS_SLAVE) | UInt(MS_REC))
        XCTAssertEqual(MountOptions.propagation(named: "shared"), UInt(MS_SHARED))
        XCTAssertNil(MountOptions.propagation(named: "sideways"))
    }

    func testBindTypeIsBind() {
        let options = MountOptions([], type: "bind")
        XCTAssertTrue(options.isBind)
        XCTAssertEqual(options.flags & UInt(MS_BIND), UInt(MS_BIND))
    }

    func testRuntimeOnlyOptionsAreNotData() {
        let options = MountOptions(["tmpcopyup", "idmap", "mode=700"], type: "tmpfs")
        XCTAssertEqual(options.data, ["mode=700"])
        XCTAssertEqual(options.flags, 0)
    }
}
