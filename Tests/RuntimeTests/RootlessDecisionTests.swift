import Errors
import Foundation
import Linux
import OCI
@testable import Runtime
import XCTest

// Rootless decisions, as pure functions of the facts they depend on: where
// the state lives, which cgroup (if any) a container gets, how id maps are
// written, and what a user is refused before anything is made.
final class RootlessDecisionTests: XCTestCase {
    // MARK: the state root

    func testRootKeepsRunVesselAndAUserGetsXDGRuntimeDir() {
        XCTAssertEqual(
            StateRoot.choose(
                xdgRuntimeDir: "/run/user/0", user: "root", euid: 0, inUserNamespace: false,
                runUserDirectoryIsOwn: true
            ).path, "/run/vessel")
        let user = StateRoot.choose(
            xdgRuntimeDir: "/run/user/1001", user: "u", euid: 1001, inUserNamespace: false,
            runUserDirectoryIsOwn: true)
        XCTAssertEqual(user, StateRoot.Choice(path: "/run/user/1001/vessel", isUsers: true))
    }

    func testRootOfAUserNamespaceHonoursXDGUnlessUserIsRoot() {
        // Rootless podman runs its runtime as root of the user's namespace.
        XCTAssertEqual(
            StateRoot.choose(
                xdgRuntimeDir: "/tmp/podman-run-1001", user: nil, euid: 0, inUserNamespace: true,
                runUserDirectoryIsOwn: false
            ).path, "/tmp/podman-run-1001/vessel")
        XCTAssertEqual(
            StateRoot.choose(
                xdgRuntimeDir: "/run/user/0", user: "root", euid: 0, inUserNamespace: true,
                runUserDirectoryIsOwn: false
            ).path, "/run/vessel")
    }

    func testAUserWithoutXDGRuntimeDirFallsBackToRunUserThenTmp() {
        XCTAssertEqual(
            StateRoot.choose(
                xdgRuntimeDir: nil, user: "u", euid: 1001, inUserNamespace: false,
                runUserDirectoryIsOwn: true
            ).path, "/run/user/1001/vessel")
        XCTAssertEqual(
            StateRoot.choose(
                xdgRuntimeDir: "", user: "u", euid: 1001, inUserNamespace: false,
                runUserDirectoryIsOwn: false
            ).path, "/tmp/vessel-1001")
    }

    func testAStateRootOfSomeoneElseIsRefused() throws {
        let dir = NSTemporaryDirectory() + "vessel-root-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        chmod(dir, 0o777)
        XCTAssertThrowsError(try StateRoot.prepare(dir)) { error in
            XCTAssertTrue("\(error)".contains("is writable by others"), "\(error)")
        }
        chmod(dir, 0o700)
        XCTAssertNoThrow(try StateRoot.prepare(dir))
        let link = dir + "-link"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: dir)
        defer { unlink(link) }
        XCTAssertThrowsError(try StateRoot.prepare(link)) { error in
            XCTAssertTrue("\(error)".contains("is not a directory"), "\(error)")
        }
    }

    // MARK: the cgroup

    private func placement(
        rootless: Bool, cgroupsPath: String? = nil, resources: Resources? = nil,
        writable: Bool
    ) throws -> Cgroup? {
        guard let mountPoint = Cgroup.findMountPoint() else { throw XCTSkip("no cgroup2 mount on this host") }
        var linux = LinuxConfig()
        linux.cgroupsPath = cgroupsPath
        let settings = try CgroupResources.settings(for: resources ?? Resources())
        return try CgroupPlacement(rootless: rootless, euid: 1001)
            .cgroup(for: linux, id: ContainerID("c1"), settings: settings, mountPoint: mountPoint) { _ in writable }
    }

    func testRootAlwaysGetsACgroup() throws {
        XCTAssertEqual(try placement(rootless: false, writable: false)?.path, "/vessel/c1")
    }

    func testRootlessGetsACgroupOnlyWhereItMayWrite() throws {
        XCTAssertNil(try placement(rootless: true, writable: false))
        let delegated = try placement(rootless: true, writable: true)
        XCTAssertEqual(delegated?.path.hasSuffix("/c1"), true, "under vessel's own cgroup, as runc places it")
        XCTAssertEqual(try placement(rootless: true, cgroupsPath: "/mine/c1", writable: true)?.path, "/mine/c1")
    }

    func testRootlessWithoutACgroupRefusesLimitsAndCgroupsPathNamingTheField() throws {
        var resources = Resources()
        resources.pids = .init(limit: 10)
        XCTAssertThrowsError(try placement(rootless: true, resources: resources, writable: false)) { error in
            XCTAssertEqual((error as? VesselError)?.field, "linux.resources.pids.limit")
            XCTAssertTrue("\(error)".contains("delegated to uid 1001"), "\(error)")
        }
        XCTAssertThrowsError(try placement(rootless: true, cgroupsPath: "/mine", writable: false)) { error in
            XCTAssertEqual((error as? VesselError)?.field, "linux.cgroupsPath")
        }
    }

    // MARK: id maps

    func testAUserWritesOnlyTheirOwnIdAndNewuidmapTheRest() {
        let own = [IDMapping(containerID: 0, hostID: 1001, size: 1)]
        let more = own + [IDMapping(containerID: 1, hostID: 100_000, size: 65536)]
        XCTAssertEqual(IDMapWriter.method(for: own, own: 1001, root: false, groups: false), .write)
        XCTAssertEqual(IDMapWriter.method(for: own, own: 1001, root: false, groups: true), .denySetgroupsThenWrite)
        XCTAssertEqual(IDMapWriter.method(for: more, own: 1001, root: false, groups: false), .helper("newuidmap"))
        XCTAssertEqual(IDMapWriter.method(for: more, own: 1001, root: false, groups: true), .helper("newgidmap"))
        XCTAssertEqual(
            IDMapWriter.method(
                for: [IDMapping(containerID: 0, hostID: 5, size: 1)], own: 1001, root: false,
                groups: false), .helper("newuidmap"), "another user's id")
        XCTAssertEqual(IDMapWriter.method(for: more, own: 0, root: true, groups: true), .write, "root writes any map")
    }

    // MARK: refusals

    func testAUserNeedsAUserNamespace() {
        XCTAssertThrowsError(try RootlessPreflight.checkNamespaces([Namespace(type: .pid)], euid: 1001)) { error in
            XCTAssertEqual((error as? VesselError)?.field, "linux.namespaces")
        }
    }

    func testANewUserNamespaceCannotJoinANamespaceByPath() {
        let namespaces = [Namespace(type: .user), Namespace(type: .network, path: "/proc/1/ns/net")]
        XCTAssertThrowsError(try RootlessPreflight.checkNamespaces(namespaces, euid: 1001)) { error in
            XCTAssertEqual((error as? VesselError)?.field, "linux.namespaces[1].path")
        }
    }

    func testAJoinedUserNamespaceAllowsNoNewNamespace() {
        let namespaces = [Namespace(type: .user, path: "/proc/self/ns/user"), Namespace(type: .mount)]
        XCTAssertThrowsError(try RootlessPreflight.checkNamespaces(namespaces, euid: 1001)) { error in
            XCTAssertTrue("\(error)".contains("a new mount namespace cannot be made"), "\(error)")
        }
    }

    func testADeviceTheHostLacksIsRefusedAndOneItHasIsBound() {
        XCTAssertNoThrow(try RootlessPreflight.checkDevices([Device(type: "c", path: "/dev/null", major: 1, minor: 3)]))
        XCTAssertThrowsError(try RootlessPreflight.checkDevices([Device(type: "c", path: "/dev/null", major: 1, minor: 5)])) { error in
            XCTAssertEqual((error as? VesselError)?.field, "linux.devices[0]")
        }
    }
}
