import Foundation
import XCTest

// `vessel compare` end to end (VM mode on TCG here), with its facts checked
// independently: the guest kernel is the one vessel booted, and a host
// process is visible in linux mode without a pid namespace but not in the VM.
final class CompareTests: XCTestCase {
    var harness: Harness!
    let probe = Harness.packageRoot + "/bundles/probe"

    override func setUpWithError() throws {
        harness = try Harness()
        guard FileManager.default.fileExists(atPath: VMTests.kernel) else {
            throw XCTSkip("no guest kernel at \(VMTests.kernel): run scripts/fetch-vm-kernel.sh")
        }
        guard FileManager.default.fileExists(atPath: probe + "/rootfs/probe") else {
            throw XCTSkip("no probe rootfs: run bundles/probe/build-rootfs.sh")
        }
    }

    override func tearDown() { harness?.cleanUp() }

    func testCompareReportsWhatTheProbesSee() throws {
        // A host process the linux-mode container can see with the host's pid namespace.
        let marker = "4242.\(getpid())"
        let sleeper = try Harness.start("/bin/sleep", [marker])
        defer { kill(sleeper.pid, SIGKILL); _ = sleeper.outcome() }
        let bundle = try harness.shellBundle("echo same-output; exit 3") { config in
            var linux = config["linux"] as? [String: Any] ?? [:]
            linux["namespaces"] = (linux["namespaces"] as? [[String: Any]] ?? []).filter { $0["type"] as? String != "pid" }
            config["linux"] = linux
        }
        let html = harness.scratch + "/report.html"
        let outcome = try harness.vessel(["compare", "--runs", "1", "--format", "json", "--html", html, "--probe-bundle", probe, bundle])
        XCTAssertEqual(outcome.code, 0, outcome.stderr)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any])
        let linux = try XCTUnwrap(report["linux"] as? [String: Any])
        let vm = try XCTUnwrap(report["vm"] as? [String: Any])

        // Equivalence: the same output and status in both modes.
        XCTAssertEqual(linux["stdout"] as? String, "same-output\n")
        XCTAssertEqual(vm["stdout"] as? String, "same-output\n")
        XCTAssertEqual(linux["exitStatus"] as? Int, 3)
        XCTAssertEqual(vm["exitStatus"] as? Int, 3)

        // Safety: kernels, checked against uname and the kernel vessel booted.
        let linuxProbe = try XCTUnwrap(linux["probe"] as? [String: Any])
        let vmProbe = try XCTUnwrap(vm["probe"] as? [String: Any])
        var names = utsname()
        uname(&names)
        let hostRelease = withUnsafeBytes(of: &names.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let guestRelease = try String(contentsOfFile: "/var/lib/vessel/vm/kernel/release", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual(linuxProbe["kernel"] as? String, hostRelease)
        XCTAssertEqual(vmProbe["kernel"] as? String, guestRelease)
        let linuxProcesses = linuxProbe["processes"] as? [String] ?? []
        let vmProcesses = vmProbe["processes"] as? [String] ?? []
        XCTAssertTrue(linuxProcesses.contains { $0.contains(marker) }, "\(linuxProcesses)")
        XCTAssertFalse(vmProcesses.contains { $0.contains(marker) }, "\(vmProcesses)")
        XCTAssertEqual(linux["hostProcessesVisible"] as? Bool, true)
        XCTAssertEqual(vm["hostProcessesVisible"] as? Bool, false)
        XCTAssertEqual(vm["hostSyscalls"] as? Int, 0)
        XCTAssertGreaterThan(linux["hostSyscalls"] as? Int ?? 0, 300)

        // Performance: a timing per run, memory measured, the initramfs counted.
        XCTAssertEqual((vm["firstOutputMilliseconds"] as? [Double])?.count, 1)
        XCTAssertGreaterThan(vm["hostMemoryMiB"] as? Double ?? 0, 0)
        XCTAssertGreaterThan(vm["diskWrittenBytes"] as? Int ?? 0, 1 << 20)
        XCTAssertEqual((report["rows"] as? [[String: Any]])?.allSatisfy { !(($0["verdict"] as? String) ?? "").isEmpty }, true)

        let page = try String(contentsOfFile: html, encoding: .utf8)
        XCTAssertTrue(page.contains("<svg"))
        XCTAssertFalse(page.contains("http://") || page.contains("https://"), "the page must not need a network")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: "/run").filter { $0.hasPrefix("vessel-compare-") }, [])
    }

    func testBadInputIsOneLine() throws {
        let notABundle = try harness.vessel(["compare", "--probe-bundle", probe, harness.scratch + "/missing"])
        XCTAssertEqual(notABundle.code, 1)
        XCTAssertEqual(notABundle.stderr, "vessel: compare: \(harness.scratch)/missing is not a bundle (no config.json)\n")
        let bundle = try harness.shellBundle("true")
        let noProbe = try harness.vessel(["compare", "--probe-bundle", harness.scratch, bundle])
        XCTAssertEqual(noProbe.code, 1)
        XCTAssertTrue(noProbe.stderr.contains("bundles/probe/build-rootfs.sh"), noProbe.stderr)
        XCTAssertEqual(try harness.vessel(["compare", "--runs", "0", bundle]).code, 1)
    }
}
