import Foundation
import XCTest

final class JoinAndKeyringTests: XCTestCase {
    var harness: Harness!

    override func setUpWithError() throws { harness = try Harness() }
    override func tearDown() { harness?.cleanUp() }

    func namespaceLink(_ pid: Int, _ kind: String) throws -> String {
        try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/\(kind)")
    }

    /// A second container joins the first one's pid, network and ipc
    /// namespaces by path: it sees the first one's process and the same
    /// namespace inodes, as read from inside.
    func testJoiningNamespacesByPath() throws {
        let first = try harness.shellBundle("sleep 100")
        XCTAssertEqual(try harness.vessel(["run", "-d", "--bundle", first, "owner"]).code, 0)
        let pid = try XCTUnwrap(try harness.state("owner")?["pid"] as? Int)
        let second = try harness.shellBundle("readlink /proc/self/ns/net; readlink /proc/self/ns/ipc; ps -o comm") {
            $0.setLinux(
                "namespaces",
                [
                    ["type": "pid", "path": "/proc/\(pid)/ns/pid"],
                    ["type": "network", "path": "/proc/\(pid)/ns/net"],
                    ["type": "ipc", "path": "/proc/\(pid)/ns/ipc"],
                    ["type": "mount"],
                ])
            $0["hostname"] = nil
        }
        let outcome = try harness.run(second)
        XCTAssertEqual(outcome.code, 0, outcome.stderr)
        let lines = outcome.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, try namespaceLink(pid, "net"))
        XCTAssertEqual(lines.dropFirst().first, try namespaceLink(pid, "ipc"))
        XCTAssertTrue(lines.contains("sleep"), "the first container's sleep is visible: \(lines)")
    }

    func testJoiningAMissingNamespaceFailsCleanly() throws {
        let bundle = try harness.shellBundle("true") {
            $0.setLinux("namespaces", [["type": "network", "path": "/proc/999999999/ns/net"], ["type": "mount"]])
            $0["hostname"] = nil
        }
        let outcome = try harness.vessel(["create", "--bundle", bundle, "nons"])
        XCTAssertNotEqual(outcome.code, 0)
        XCTAssertTrue(outcome.stderr.contains("/proc/999999999/ns/net"), outcome.stderr)
        XCTAssertEqual(outcome.stderr.split(separator: "\n").count, 1, outcome.stderr)
        harness.assertNoTrace("nons")
    }

    /// A step the clone3 child cannot take is reported by name with its
    /// errno: from a new user namespace, the host's network namespace
    /// (owned by the initial user namespace) cannot be joined.
    func testAFailedSetnsInTheChildIsNamedWithItsErrno() throws {
        let bundle = try harness.shellBundle("true") { config in
            config.setLinux(
                "namespaces",
                [
                    ["type": "user"], ["type": "mount"], ["type": "pid"], ["type": "uts"],
                    ["type": "network", "path": "/proc/self/ns/net"],
                ])
            config.setLinux("uidMappings", [["containerID": 0, "hostID": 100_000, "size": 65536]])
            config.setLinux("gidMappings", [["containerID": 0, "hostID": 100_000, "size": 65536]])
        }
        let outcome = try harness.vessel(["create", "--bundle", bundle, "setnsfail"])
        XCTAssertEqual(outcome.code, 1)
        XCTAssertEqual(outcome.stderr, "vessel: container init could not join a namespace (setns): Operation not permitted\n")
        harness.assertNoTrace("setnsfail")
    }

    /// A path that opens but is no namespace (a directory: setns fails in
    /// the init before it can say why) or that would block the open (a
    /// FIFO): one line and a prompt exit, not a hang. Found by ConfigFuzzTests.
    func testJoiningSomethingThatIsNotANamespaceFailsCleanly() throws {
        let fifo = harness.scratch + "/not-a-namespace"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        for (index, path) in [harness.scratch, fifo].enumerated() {
            let bundle = try harness.shellBundle("true") {
                $0.setLinux("namespaces", [["type": "ipc", "path": path], ["type": "mount"]])
                $0["hostname"] = nil
            }
            let id = "notns\(index)"
            let running = try Harness.start(Harness.vesselBinary, ["--root", harness.stateRoot, "create", "--bundle", bundle, id])
            guard running.wait(timeoutSeconds: 10) else {
                kill(running.pid, SIGKILL)
                _ = running.outcome()
                XCTFail("create hung with linux.namespaces[0].path = \(path)")
                continue
            }
            let outcome = running.outcome()
            XCTAssertNotEqual(outcome.code, 0)
            XCTAssertEqual(outcome.stderr.split(separator: "\n").count, 1, outcome.stderr)
            harness.assertNoTrace(id)
        }
    }

    /// The container gets a session keyring of its own (named _ses.<id>),
    /// and keeps the caller's with --no-new-keyring.
    func testNewSessionKeyring() throws {
        let bundle = try harness.shellBundle("cat /proc/keys") { $0.setLinux("maskedPaths", [String]()) }
        let outcome = try harness.vessel(["run", "--bundle", bundle, "keyed"])
        XCTAssertEqual(outcome.code, 0, outcome.stderr)
        XCTAssertTrue(outcome.stdout.contains("_ses.keyed"), outcome.stdout)
        let shared = try harness.vessel(["run", "--no-new-keyring", "--bundle", bundle, "unkeyed"])
        XCTAssertEqual(shared.code, 0, shared.stderr)
        XCTAssertFalse(shared.stdout.contains("_ses.unkeyed"), shared.stdout)
    }
}
