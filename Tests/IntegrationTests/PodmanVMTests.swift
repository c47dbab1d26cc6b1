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
        // podman gives conmon (and so vessel) only containers.conf's
        // conmon_env_vars: VESSEL_VM_TEMPLATES=off must be passed there.
        if let templates = ProcessInfo.processInfo.environment["VESSEL_VM_TEMPLATES"] {
            let conf = podmanTests.harness.scratch + "/containers.conf"
            try "[engine]\nconmon_env_vars = [\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\", \"VESSEL_VM_TEMPLATES=\(templates)\"]\n"
                .write(toFile: conf, atomically: true, encoding: .utf8)
            setenv("CONTAINERS_CONF", conf, 1)
        }
    }

    override func tearDown() {
        unsetenv("CONTAINERS_CONF")
        podmanTests.tearDown()
    }

    /// The command lines of the QEMU processes serving this test's rootfs.
    func qemuCommandLines() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: "/proc").filter { Int($0) != nil }.compactMap {
            (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\($0)/cmdline"))).map { String(decoding: $0.map { $0 == 0 ? 32 : $0 }, as: UTF8.self) }
        }.filter { $0.contains("qemu-system") && $0.contains(podmanTests.rootfs) }
    }

    func testRunExecStopRm() throws {
        let run = try podmanTests.podman(
            ["run", "--rm"] + podmanTests.limits
                + ["--rootfs", podmanTests.rootfs, "sh", "-c", "echo hi from the vm; uname -r; exit 3"])
        XCTAssertEqual(run.code, 3, run.stderr)
        let lines = run.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "hi from the vm")
        let release = try String(contentsOfFile: "/var/lib/vessel/vm/kernel/release", encoding: .utf8)
        XCTAssertEqual(lines.last, release.trimmingCharacters(in: .whitespacesAndNewlines))

        let detached = try podmanTests.podman(
            ["run", "-d", "--name", "pvm1"] + podmanTests.limits
                + ["--rootfs", podmanTests.rootfs, "sh", "-c", "echo started; sleep 1000"])
        XCTAssertEqual(detached.code, 0, detached.stderr)
        // The guest carries (or waits for) podman's network on a device
        // with a placeholder MAC: with templates on it is restored from a
        // template holding such a device (QEMU waited for its state:
        // -incoming), with them off it boots cold.
        let commandLines = try qemuCommandLines()
        let templatesOff = ProcessInfo.processInfo.environment["VESSEL_VM_TEMPLATES"] == "off"
        XCTAssertEqual(commandLines.count, 1)
        XCTAssertEqual(commandLines.first?.contains("-incoming defer"), !templatesOff, "\(commandLines)")
        XCTAssertEqual(commandLines.first?.contains("virtio-net-device"), true, "\(commandLines)")
        let exec = try podmanTests.podman(["exec", "pvm1", "sh", "-c", "echo exec-ok; exit 5"])
        XCTAssertEqual(exec.code, 5, exec.stderr)
        XCTAssertEqual(exec.stdout, "exec-ok\n")
        XCTAssertEqual(try podmanTests.podman(["logs", "pvm1"]).stdout, "started\n")
        XCTAssertEqual(try podmanTests.podman(["stop", "--time", "1", "pvm1"]).code, 0)
        XCTAssertEqual(try podmanTests.podman(["rm", "pvm1"]).code, 0)
        XCTAssertEqual(try podmanTests.podman(["ps", "-aq"]).stdout, "")
        XCTAssertEqual(try qemuCommandLines(), [], "QEMU left running")
    }

    func testInteractiveTerminal() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else {
            throw XCTSkip("script(1) from bsdutils is not installed")
        }
        let command =
            (podmanTests.podmanArgs + ["run", "--rm", "-it"] + podmanTests.limits
            + ["--rootfs", podmanTests.rootfs, "sh"]).joined(separator: " ")
        let outcome = try Harness.execute(
            "/usr/bin/script", ["-qec", command, "/dev/null"],
            stdin: "tty; echo typed-$((6*7)); exit 4\n")
        XCTAssertEqual(outcome.code, 4, outcome.stdout + outcome.stderr)
        XCTAssertTrue(outcome.stdout.contains("/dev/pts/0"), outcome.stdout)
        XCTAssertTrue(outcome.stdout.contains("typed-42"), outcome.stdout)
    }
}
