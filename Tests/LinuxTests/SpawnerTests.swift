import Errors
import Foundation
import Glibc
import Linux
import OSKit
import XCTest

final class SpawnerTests: XCTestCase {
    func link(_ path: String) -> String? { try? FileManager.default.destinationOfSymbolicLink(atPath: path) }

    /// setns(CLONE_NEWPID) for one spawn must not stick to the calling
    /// thread: the guest agent is long-lived, and what it spawned later
    /// would be born in the container's pid namespace.
    func testJoiningAPidNamespaceLeavesLaterChildrenWhereTheyWere() throws {
        guard getuid() == 0 else { throw XCTSkip("needs root: setns into a pid namespace") }
        var holderRequest = SpawnRequest(path: "/bin/sleep", arguments: ["sleep", "30"], environment: [])
        holderRequest.cloneFlags = 0x2000_0000  // CLONE_NEWPID
        let holder = try Spawner.spawn(holderRequest)
        defer { kill(holder, SIGKILL); _ = Spawner.wait(holder) }
        let namespace = open("/proc/\(holder)/ns/pid", O_RDONLY | O_CLOEXEC)
        XCTAssertGreaterThanOrEqual(namespace, 0)
        defer { close(namespace) }
        let before = try XCTUnwrap(link("/proc/thread-self/ns/pid_for_children"))

        var joinerRequest = SpawnRequest(path: "/bin/sleep", arguments: ["sleep", "30"], environment: [])
        joinerRequest.joinPIDNamespaceFD = namespace
        let joiner = try Spawner.spawn(joinerRequest)
        defer { kill(joiner, SIGKILL); _ = Spawner.wait(joiner) }

        XCTAssertEqual(link("/proc/\(joiner)/ns/pid"), link("/proc/\(holder)/ns/pid"), "the spawn joined the namespace")
        XCTAssertNotEqual(link("/proc/\(holder)/ns/pid"), before)
        XCTAssertEqual(link("/proc/thread-self/ns/pid_for_children"), before, "the caller's children go where they went before")
    }

    /// Going on in a clone of a threaded process could meet a lock another
    /// thread held at the clone: the shim counts /proc/self/task and refuses
    /// (EDEADLK) without cloning, so the caller re-executes instead.
    func testAnInPlaceCloneOfAThreadedProcessIsRefused() throws {
        let started = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            started.signal()
            release.wait()
        }
        started.wait()
        defer { release.signal() }
        XCTAssertGreaterThan((try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")).count, 1)
        var request = SpawnRequest(path: "/bin/true", arguments: ["true"], environment: [])
        request.inPlace = true
        let childrenBefore = try String(contentsOfFile: "/proc/thread-self/children", encoding: .utf8)
        XCTAssertThrowsError(try Spawner.spawn(request)) { error in
            XCTAssertEqual((error as? VesselError)?.errno, .deadlock)
        }
        XCTAssertEqual(try String(contentsOfFile: "/proc/thread-self/children", encoding: .utf8), childrenBefore, "nothing was cloned")
    }
}
