import Foundation
import XCTest

// podman with vessel as its OCI runtime, on a copy of the busybox rootfs
// (no registry is reachable). Each test uses its own podman storage under
// the scratch directory and removes its containers.
final class PodmanTests: XCTestCase {
    var harness: Harness!
    var podmanArgs: [String] = []
    var rootfs = ""
    /// podman refuses a runroot longer than 50 characters.
    let runRoot = "/tmp/vp-" + UUID().uuidString.prefix(8)

    override func setUpWithError() throws {
        harness = try Harness()
        guard let podman = ["/usr/bin/podman", "/usr/local/bin/podman"].first(where: FileManager.default.isExecutableFile) else {
            throw XCTSkip("podman is not installed (apt-get install podman)")
        }
        let base = harness.scratch + "/podman"
        rootfs = base + "/rootfs"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        let copy = try Harness.execute("/bin/cp", ["-a", Harness.rootfs, rootfs])
        XCTAssertEqual(copy.code, 0, copy.stderr)
        podmanArgs = [
            podman, "--runtime", Harness.vesselBinary, "--cgroup-manager=cgroupfs", "--events-backend=file",
            "--root", base + "/storage", "--runroot", runRoot, "--tmpdir", base + "/tmp",
        ]
    }

    override func tearDown() {
        if !podmanArgs.isEmpty { _ = try? podman(["rm", "--all", "--force", "--time", "0"]) }
        try? FileManager.default.removeItem(atPath: runRoot)
        harness?.cleanUp()
    }

    @discardableResult
    func podman(_ args: [String]) throws -> Outcome {
        try Harness.execute(podmanArgs[0], Array(podmanArgs.dropFirst()) + args)
    }

    /// The host limits (ENVIRONMENT.md): podman's default nofile is above the
    /// hard limit, and only hugetlb exists in cgroup v2 here (no pids limit).
    let limits = ["--pids-limit", "0", "--ulimit", "nofile=1024:20000", "--ulimit", "nproc=1024:1024"]

    func testRunRemovesAndPassesTheExitCode() throws {
        let outcome = try podman(["run", "--rm"] + limits + ["--rootfs", rootfs, "sh", "-c", "echo hi from podman; exit 3"])
        XCTAssertEqual(outcome.code, 3, outcome.stderr)
        XCTAssertEqual(outcome.stdout, "hi from podman\n")
        XCTAssertEqual(try podman(["ps", "-aq"]).stdout, "")
    }

    func testDetachedContainerLifecycle() throws {
        let run = try podman(["run", "-d", "--name", "pv1"] + limits + ["--rootfs", rootfs, "sh", "-c", "echo started; sleep 1000"])
        XCTAssertEqual(run.code, 0, run.stderr)
        let exec = try podman(["exec", "pv1", "sh", "-c", "echo exec-ok; echo $$"])
        XCTAssertEqual(exec.code, 0, exec.stderr)
        XCTAssertTrue(exec.stdout.hasPrefix("exec-ok\n"), exec.stdout)
        let top = try podman(["top", "pv1"])
        XCTAssertTrue(top.stdout.contains("sleep 1000"), top.stdout + top.stderr)
        XCTAssertTrue(try podman(["logs", "pv1"]).stdout.contains("started"))
        XCTAssertEqual(try podman(["pause", "pv1"]).code, 0)
        XCTAssertTrue(try podman(["inspect", "--format", "{{.State.Status}}", "pv1"]).stdout.contains("paused"))
        XCTAssertEqual(try podman(["unpause", "pv1"]).code, 0)
        XCTAssertTrue(try podman(["inspect", "--format", "{{.State.Status}}", "pv1"]).stdout.contains("running"))
        XCTAssertEqual(try podman(["stop", "--time", "1", "pv1"]).code, 0)
        XCTAssertEqual(try podman(["rm", "pv1"]).code, 0)
        XCTAssertEqual(try podman(["ps", "-aq"]).stdout, "")
    }

    /// `run -it`: the terminal goes from vessel's pty (sent over conmon's
    /// console socket) to a real terminal that `script` provides here.
    func testInteractiveTerminal() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else {
            throw XCTSkip("script(1) from bsdutils is not installed")
        }
        let command = (podmanArgs + ["run", "--rm", "-it"] + limits + ["--rootfs", rootfs, "sh"]).joined(separator: " ")
        let outcome = try Harness.execute(
            "/usr/bin/script", ["-qec", command, "/dev/null"],
            stdin: "tty; echo typed-$((6*7)); exit 4\n")
        XCTAssertEqual(outcome.code, 4, outcome.stdout + outcome.stderr)
        XCTAssertTrue(outcome.stdout.contains("/dev/pts/0"), outcome.stdout)
        XCTAssertTrue(outcome.stdout.contains("typed-42"), outcome.stdout)
    }

    /// `exec -it`: vessel exec --tty with conmon's console socket.
    func testInteractiveExec() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else {
            throw XCTSkip("script(1) from bsdutils is not installed")
        }
        XCTAssertEqual(try podman(["run", "-d", "--name", "pv2"] + limits + ["--rootfs", rootfs, "sleep", "1000"]).code, 0)
        let command = (podmanArgs + ["exec", "-it", "pv2", "sh"]).joined(separator: " ")
        let outcome = try Harness.execute("/usr/bin/script", ["-qec", command, "/dev/null"], stdin: "tty; exit 9\n")
        XCTAssertEqual(outcome.code, 9, outcome.stdout + outcome.stderr)
        XCTAssertTrue(outcome.stdout.contains("/dev/pts/"), outcome.stdout)
    }
}
