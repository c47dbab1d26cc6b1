import Foundation
import XCTest

// containerd with its runc shim pointed at vessel (`ctr run --runc-binary`),
// on an image the test packs from the busybox rootfs (no registry here).
// Each test starts its own containerd and stops it afterwards.
final class ContainerdTests: XCTestCase {
    var harness: Harness!
    var daemon: Harness.Running?
    let base = "/tmp/vc-" + UUID().uuidString.prefix(8)
    let image = "docker.io/library/vessel-busybox:latest"

    override func setUpWithError() throws {
        harness = try Harness()
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/containerd"),
            FileManager.default.isExecutableFile(atPath: "/usr/bin/ctr")
        else {
            throw XCTSkip("containerd is not installed (apt-get install containerd)")
        }
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        let config = """
            version = 2
            root = "\(base)/root"
            state = "\(base)/state"
            disabled_plugins = ["io.containerd.grpc.v1.cri"]
            [grpc]
              address = "\(base)/c.sock"
            """
        try config.write(toFile: base + "/config.toml", atomically: true, encoding: .utf8)
        daemon = try Harness.start("/usr/bin/containerd", ["--config", base + "/config.toml"])
        for _ in 0..<100 where !FileManager.default.fileExists(atPath: base + "/c.sock") { usleep(50_000) }
        let pack = try Harness.execute(
            "/usr/bin/python3",
            [
                Harness.packageRoot + "/bundles/image/build-oci-image.py",
                Harness.rootfs, base + "/image.tar", image,
            ])
        XCTAssertEqual(pack.code, 0, pack.stderr)
        let imported = try ctr(["images", "import", base + "/image.tar"])
        XCTAssertEqual(imported.code, 0, imported.stderr)
    }

    override func tearDown() {
        if let daemon {
            _ = try? ctr(["tasks", "kill", "-s", "SIGKILL", "ct2"])
            _ = try? ctr(["tasks", "delete", "ct2"])
            _ = try? ctr(["containers", "delete", "ct2"])
            kill(daemon.pid, SIGTERM)
            _ = daemon.outcome()
        }
        rmdir("/sys/fs/cgroup/default")
        try? FileManager.default.removeItem(atPath: base)
        harness?.cleanUp()
    }

    @discardableResult
    func ctr(_ args: [String]) throws -> Outcome {
        try Harness.execute("/usr/bin/ctr", ["--address", base + "/c.sock"] + args)
    }

    /// No cpu controller in cgroup v2 here: ctr's default cpu shares (1024)
    /// would be refused, so they are turned off.
    var runFlags: [String] { ["--snapshotter", "native", "--cpu-shares", "0", "--runc-binary", Harness.vesselBinary] }

    func testRunExecKillDelete() throws {
        let once = try ctr(["run", "--rm"] + runFlags + [image, "ct1", "sh", "-c", "echo hi from containerd; exit 6"])
        XCTAssertEqual(once.code, 6, once.stderr)
        XCTAssertEqual(once.stdout, "hi from containerd\n")

        let detached = try ctr(["run", "-d"] + runFlags + [image, "ct2", "sleep", "100"])
        XCTAssertEqual(detached.code, 0, detached.stderr)
        let listed = try ctr(["tasks", "ls"])
        XCTAssertTrue(listed.stdout.contains("ct2") && listed.stdout.contains("RUNNING"), listed.stdout)
        let exec = try ctr(["tasks", "exec", "--exec-id", "e1", "ct2", "sh", "-c", "echo exec-ok"])
        XCTAssertEqual(exec.code, 0, exec.stderr)
        XCTAssertEqual(exec.stdout, "exec-ok\n")
        XCTAssertEqual(try ctr(["tasks", "kill", "-s", "SIGKILL", "ct2"]).code, 0)
        var stopped = false
        for _ in 0..<100 {
            if try ctr(["tasks", "ls"]).stdout.contains("STOPPED") { stopped = true; break }
            usleep(50_000)
        }
        XCTAssertTrue(stopped)
        XCTAssertEqual(try ctr(["tasks", "delete", "ct2"]).code, 0)
        XCTAssertEqual(try ctr(["containers", "delete", "ct2"]).code, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/sys/fs/cgroup/default/ct2"), "cgroup left")
    }
}
