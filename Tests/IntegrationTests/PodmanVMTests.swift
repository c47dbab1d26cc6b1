import Foundation
import XCTest

// podman with `vessel-vm` (a symlink to vessel: always VM mode) as its OCI
// runtime: run, exec, stop and rm work unchanged, and the workload sees the
// guest's kernel. Uses PodmanTests' set-up with the symlink as the runtime.
final class PodmanVMTests: XCTestCase {
    let podmanTests = PodmanTests(name: "PodmanTests.vm") { _ in }

    override func setUpWithError() throws {
        guard FileManager.default.fileExists(atPath: VMTests.kernel) else {
            throw XCTSkip("no guest kernel at \(VMTests.kernel): run scripts/fetch-vm-kernel.sh")
        }
        try podmanTests.setUpWithError()
        let link = podmanTests.harness.scratch + "/vessel-vm"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: Harness.vesselBinary)
        podmanTests.podmanArgs[podmanTests.podmanArgs.firstIndex(of: Harness.vesselBinary)!] = link
    }

    override func tearDown() { podmanTests.tearDown() }

    func testRunExecStopRm() throws {
        let run = try podmanTests.podman(["run", "--rm"] + podmanTests.limits
                                         + ["--rootfs", podmanTests.rootfs, "sh", "-c", "echo hi from the vm; uname -r; exit 3"])
        XCTAssertEqual(run.code, 3, run.stderr)
        let lines = run.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "hi from the vm")
        let release = try String(contentsOfFile: "/var/lib/vessel/vm/kernel/release", encoding: .utf8)
        XCTAssertEqual(lines.last, release.trimmingCharacters(in: .whitespacesAndNewlines))

        let detached = try podmanTests.podman(["run", "-d", "--name", "pvm1"] + podmanTests.limits
                                              + ["--rootfs", podmanTests.rootfs, "sh", "-c", "echo started; sleep 1000"])
        XCTAssertEqual(detached.code, 0, detached.stderr)
        let exec = try podmanTests.podman(["exec", "pvm1", "sh", "-c", "echo exec-ok; exit 5"])
        XCTAssertEqual(exec.code, 5, exec.stderr)
        XCTAssertEqual(exec.stdout, "exec-ok\n")
        XCTAssertEqual(try podmanTests.podman(["logs", "pvm1"]).stdout, "started\n")
        XCTAssertEqual(try podmanTests.podman(["stop", "--time", "1", "pvm1"]).code, 0)
        XCTAssertEqual(try podmanTests.podman(["rm", "pvm1"]).code, 0)
        XCTAssertEqual(try podmanTests.podman(["ps", "-aq"]).stdout, "")
        let qemus = try FileManager.default.contentsOfDirectory(atPath: "/proc").filter { Int($0) != nil }.filter {
            ((try? String(contentsOfFile: "/proc/\($0)/cmdline", encoding: .utf8)) ?? "").contains(podmanTests.rootfs)
        }
        XCTAssertEqual(qemus, [], "QEMU left running")
    }

    func testInteractiveTerminal() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else {
            throw XCTSkip("script(1) from bsdutils is not installed")
        }
        let command = (podmanTests.podmanArgs + ["run", "--rm", "-it"] + podmanTests.limits
                       + ["--rootfs", podmanTests.rootfs, "sh"]).joined(separator: " ")
        let outcome = try Harness.execute("/usr/bin/script", ["-qec", command, "/dev/null"],
                                          stdin: "tty; echo typed-$((6*7)); exit 4\n")
        XCTAssertEqual(outcome.code, 4, outcome.stdout + outcome.stderr)
        XCTAssertTrue(outcome.stdout.contains("/dev/pts/0"), outcome.stdout)
        XCTAssertTrue(outcome.stdout.contains("typed-42"), outcome.stdout)
    }
}
