import Errors
import Foundation
import OCI
@testable import Runtime
import XCTest

// Rootless decisions, as pure functions of the facts they depend on: where
// the state lives.
final class RootlessDecisionTests: XCTestCase {
    // MARK: the state root

    func testRootKeepsRunVesselAndAUserGetsXDGRuntimeDir() {
        XCTAssertEqual(StateRoot.choose(xdgRuntimeDir: "/run/user/0", user: "root", euid: 0, inUserNamespace: false,
                                        runUserDirectoryIsOwn: true).path, "/run/vessel")
        let user = StateRoot.choose(xdgRuntimeDir: "/run/user/1001", user: "u", euid: 1001, inUserNamespace: false,
                                    runUserDirectoryIsOwn: true)
        XCTAssertEqual(user, StateRoot.Choice(path: "/run/user/1001/vessel", isUsers: true))
    }

    func testRootOfAUserNamespaceHonoursXDGUnlessUserIsRoot() {
        // Rootless podman runs its runtime as root of the user's namespace.
        XCTAssertEqual(StateRoot.choose(xdgRuntimeDir: "/tmp/podman-run-1001", user: nil, euid: 0, inUserNamespace: true,
                                        runUserDirectoryIsOwn: false).path, "/tmp/podman-run-1001/vessel")
        XCTAssertEqual(StateRoot.choose(xdgRuntimeDir: "/run/user/0", user: "root", euid: 0, inUserNamespace: true,
                                        runUserDirectoryIsOwn: false).path, "/run/vessel")
    }

    func testAUserWithoutXDGRuntimeDirFallsBackToRunUserThenTmp() {
        XCTAssertEqual(StateRoot.choose(xdgRuntimeDir: nil, user: "u", euid: 1001, inUserNamespace: false,
                                        runUserDirectoryIsOwn: true).path, "/run/user/1001/vessel")
        XCTAssertEqual(StateRoot.choose(xdgRuntimeDir: "", user: "u", euid: 1001, inUserNamespace: false,
                                        runUserDirectoryIsOwn: false).path, "/tmp/vessel-1001")
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
}
