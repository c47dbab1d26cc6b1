import XCTest
@testable import Linux

// Which cgroup paths from a state file may be killed and removed: only
// normalized, absolute paths below the root that hold not the runtime itself.
final class CgroupPathTests: XCTestCase {
    func testContainerPathsAreAccepted() {
        XCTAssertTrue(Cgroup.isContainerPath("/vessel/c1"))
        XCTAssertTrue(Cgroup.isContainerPath("/a/b...c/d"))
    }

    func testRootWalksAndOddFormsAreRefused() {
        for path in ["/", "", "relative", "/../..", "/a/..", "/a/../b", "//a", "/a//b", "/a/", "/./a", "/a/."] {
            XCTAssertFalse(Cgroup.isContainerPath(path), path)
        }
    }

    func testTheRuntimesOwnCgroupAndItsAncestorsAreRefused() {
        let own = Cgroup.ownCgroup()
        XCTAssertFalse(Cgroup.isContainerPath(own))
        var parts = own.split(separator: "/")
        while !parts.isEmpty {
            parts.removeLast()
            XCTAssertFalse(Cgroup.isContainerPath("/" + parts.joined(separator: "/")))
        }
        XCTAssertTrue(Cgroup.isContainerPath(own == "/" ? "/child" : own + "/child"))
    }

    func testAMountThatIsNotTheHostsCgroup2IsRefused() {
        XCTAssertNil(Cgroup(validatingMountPoint: "/tmp", path: "/vessel/c1"))
        XCTAssertNil(Cgroup(validatingMountPoint: "/sys/fs/cgroup/../cgroup", path: "/vessel/c1"))
    }
}
