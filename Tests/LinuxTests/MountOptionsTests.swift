import Glibc
import Linux
import XCTest

final class MountOptionsTests: XCTestCase {
    func testTmpfsFlagsAndData() {
        let options = MountOptions(["nosuid", "nodev", "ro", "mode=755", "size=65536k"], type: "tmpfs")
        XCTAssertEqual(options.flags, UInt(MS_NOSUID) | UInt(MS_NODEV) | UInt(MS_RDONLY))
        XCTAssertEqual(options.data, ["mode=755", "size=65536k"])
        XCTAssertFalse(options.isBind)
        XCTAssertEqual(options.propagation, [])
    }

    func testRbindReadOnlyNeedsRemount() {
        let options = MountOptions(["rbind", "ro"], type: "none")
        XCTAssertTrue(options.isBind)
        XCTAssertEqual(options.flags & UInt(MS_BIND | MS_REC), UInt(MS_BIND | MS_REC))
        let remount = options.remountFlags
        XCTAssertNotNil(remount)
        let expected = UInt(MS_RDONLY) | UInt(MS_BIND) | UInt(MS_REMOUNT)
        XCTAssertEqual((remount ?? 0) & expected, expected)
        XCTAssertEqual((remount ?? 0) & UInt(MS_REC), 0, "MS_REC belongs to the first call only")
    }

    func testPlainBindNeedsNoRemount() {
        XCTAssertNil(MountOptions(["rbind"], type: nil).remountFlags)
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
