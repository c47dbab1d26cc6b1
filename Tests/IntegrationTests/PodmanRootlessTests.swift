import Foundation
import XCTest

// Rootless podman (a regular user, cgroupfs, storage under the user's home)
// with vessel as its runtime, on a copy of the busybox rootfs the user
// owns. podman runs vessel as root of the user's namespace (the user's uid
// and its subordinate ids), so vessel is rootless there too: its state
// under podman's XDG_RUNTIME_DIR, no cgroup. Run, exec, stop and remove.
final class PodmanRootlessTests: XCTestCase {
    static let shared = ClassRootlessUser()
    var harness: Harness!
    var user: RootlessUser!
    var podmanArgs: [String] = []
    /// The host limits (ENVIRONMENT.md): podman's default nofile is above
    /// the hard limit; no pids limit (rootless cgroupfs has no cgroup).
    let limits = ["--pids-limit", "0", "--ulimit", "nofile=1024:20000", "--ulimit", "nproc=1024:1024"]

    override func setUpWithError() throws {
        harness = try Harness()
        guard let podman = ["/usr/bin/podman", "/usr/local/bin/podman"].first(where: FileManager.default.isExecutableFile) else {
            throw XCTSkip("podman is not installed (apt-get install podman)")
        }
        for helper in ["/usr/bin/newuidmap", "/usr/bin/newgidmap"] {
            var info = stat()
            guard stat(helper, &info) == 0, info.st_mode & S_ISUID != 0 else {
                throw XCTSkip("rootless podman needs \(helper) setuid root (Debian's uidmap package)")
            }
        }
        user = try Self.shared.get()
        podmanArgs = [podman, "--runtime", user.home + "/vessel", "--cgroup-manager=cgroupfs", "--events-backend=file"]
        // Proven without vessel first: podman's own user namespace.
        let unshare = try user.run(podman, ["unshare", "cat", "/proc/self/uid_map"])
        guard unshare.code == 0, unshare.stdout.contains("\(user.subordinateStart)") else {
            throw XCTSkip("rootless podman cannot make its user namespace here: \(unshare.stderr)")
        }
    }

    override func tearDown() {
        if !podmanArgs.isEmpty { _ = try? podman(["rm", "--all", "--force", "--time", "0"]) }
        harness?.cleanUp()
    }

    override class func tearDown() {
        shared.remove()
    }

    @discardableResult
    func podman(_ args: [String]) throws -> Outcome {
        try user.run(podmanArgs[0], Array(podmanArgs.dropFirst()) + args)
    }

    func testRunIsRootOfTheUsersNamespace() throws {
        let outcome = try podman(
            ["run", "--rm"] + limits + [
                "--rootfs", user.home + "/rootfs",
                "sh", "-c", "id -u; cat /proc/self/uid_map; echo hi > /tmp/x && cat /tmp/x",
            ])
        XCTAssertEqual(outcome.code, 0, outcome.stderr)
        let lines = outcome.stdout.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }
        XCTAssertEqual(lines, ["0", "0 \(user.uid) 1", "1 \(user.subordinateStart) 65536", "hi"])
        XCTAssertEqual(try podman(["ps", "-aq"]).stdout, "")
        let stateRoot = user.runtimeDir + "/vessel"
        XCTAssertEqual(
            (try? FileManager.default.contentsOfDirectory(atPath: stateRoot)) ?? [], [],
            "vessel's state (under podman's XDG_RUNTIME_DIR) is gone")
    }

    func testDetachedRunExecStopRemove() throws {
        let run = try podman(["run", "-d", "--name", "prl1"] + limits + ["--rootfs", user.home + "/rootfs", "sleep", "1000"])
        XCTAssertEqual(run.code, 0, run.stderr)
        let exec = try podman(["exec", "prl1", "sh", "-c", "echo exec-ok; id -u"])
        XCTAssertEqual(exec.code, 0, exec.stderr)
        XCTAssertEqual(exec.stdout, "exec-ok\n0\n")
        XCTAssertTrue(try podman(["inspect", "--format", "{{.State.Status}}", "prl1"]).stdout.contains("running"))
        XCTAssertEqual(try podman(["stop", "--time", "1", "prl1"]).code, 0)
        XCTAssertTrue(try podman(["inspect", "--format", "{{.State.Status}}", "prl1"]).stdout.contains("exited"))
        XCTAssertEqual(try podman(["rm", "prl1"]).code, 0)
        XCTAssertEqual(try podman(["ps", "-aq"]).stdout, "")
        let stateRoot = user.runtimeDir + "/vessel"
        XCTAssertEqual((try? FileManager.default.contentsOfDirectory(atPath: stateRoot)) ?? [], [])
    }
}
