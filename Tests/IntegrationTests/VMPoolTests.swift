import Foundation
import XCTest

// The pool of warm VMs (`vessel vm pool`) with real QEMU guests (TCG here):
// a `run` takes a ready VM instead of restoring one, the pool refills in
// the background, a pool VM's container is a machine of its own (random
// bytes, clock), and a failed claim, the container's end and a drain each
// leave nothing on the host: no entry, mount or process. Each test has its
// own state root (so its own pool) and template directory.
final class VMPoolTests: XCTestCase {
    var harness: Harness!

    override func setUpWithError() throws {
        harness = try Harness()
        if let missing = Harness.vmMissing() { throw XCTSkip(missing) }
        setenv("VESSEL_VM_TEMPLATE_DIR", harness.scratch + "/templates", 1)
        unsetenv("VESSEL_VM_TEMPLATES")
    }

    override func tearDown() {
        if let harness {
            let directory = poolDirectory()
            _ = try? harness.vessel(["vm", "pool", "drain"])
            harness.cleanUp()
            if let directory { assertPoolLeftNothing(directory) }
        }
        unsetenv("VESSEL_VM_TEMPLATE_DIR")
    }

    /// The pool's directory, as `vm pool list` names it.
    func poolDirectory() -> String? {
        guard let listed = try? harness.vessel(["vm", "pool", "list"]).stdout,
            let open = listed.firstIndex(of: "("), let close = listed.firstIndex(of: ")")
        else { return nil }
        return String(listed[listed.index(after: open)..<close])
    }

    /// The pool's VMs: number -> status (warming, ready, claimed).
    func entries() throws -> [String: String] {
        let listed = try harness.vessel(["vm", "pool", "list"]).stdout.split(separator: "\n").dropFirst()
        return Dictionary(
            listed.map { line -> (String, String) in
                let fields = line.split(separator: "\t").map(String.init)
                return (fields.first ?? "", fields.count > 1 ? fields[1] : "")
            }, uniquingKeysWith: { $1 })
    }

    /// Waits (bounded) until the pool has a ready VM again: a refill runs
    /// in the background after each claim.
    func waitForReady(_ count: Int = 1, file: StaticString = #filePath, line: UInt = #line) throws {
        for _ in 0..<240 {
            if try entries().values.filter({ $0 == "ready" }).count >= count { return }
            usleep(250_000)
        }
        XCTFail("the pool did not refill within 60 s: \(try entries())", file: file, line: line)
    }

    /// No entry, no mount below the pool's directory, no process naming it.
    func assertPoolLeftNothing(_ directory: String, file: StaticString = #filePath, line: UInt = #line) {
        let left = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasPrefix("pool@") }
        XCTAssertEqual(left, [], "pool entries left", file: file, line: line)
        let mounts = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
        XCTAssertFalse(mounts.contains(directory), "a mount below \(directory) is left", file: file, line: line)
        XCTAssertEqual(Harness.processes(mentioning: directory), [], file: file, line: line)
    }

    func testARunTakesAReadyVMAndThePoolRefills() throws {
        let filled = try harness.vessel(["vm", "pool", "fill", "--count", "1"])
        XCTAssertEqual(filled.code, 0, filled.stderr)
        let directory = try XCTUnwrap(poolDirectory())
        XCTAssertEqual(try entries(), ["0": "ready"])
        // The warm-up's program (vessel, bound from the host) is gone from
        // the share before any container can take the VM.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory + "/pool@0/pod"), [])

        let (outcome, log) = try harness.vmRun(try harness.shellBundle("echo out; echo err >&2; exit 3"), "wvm-1")
        XCTAssertEqual(outcome.code, 3, outcome.stderr)
        XCTAssertEqual(outcome.stdout, "out\n")
        XCTAssertEqual(outcome.stderr, "err\n")
        XCTAssertTrue(log.contains("vm: pool VM 0"), log)
        try waitForReady()
        // The VM ended with its container (which `run` deleted).
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/pool@0"))
        harness.assertNoTrace("wvm-1")

        let sleeper = try harness.shellBundle("sleep 100")
        XCTAssertEqual(try harness.vmRun(sleeper, "wvm-2", detached: true).outcome.code, 0)
        let annotations = try XCTUnwrap(try harness.state("wvm-2")?["annotations"] as? [String: String])
        XCTAssertTrue(annotations["org.vessel.vm.boot"]?.hasPrefix("pool 1 (template ") == true, "\(annotations)")
        XCTAssertEqual(try harness.status("wvm-2"), "running")
        XCTAssertEqual(try harness.vessel(["exec", "wvm-2", "sh", "-c", "echo exec-ok"]).stdout, "exec-ok\n")
        XCTAssertEqual(try harness.vessel(["kill", "wvm-2", "KILL"]).code, 0)
        XCTAssertEqual(try harness.waitForStatus("wvm-2", "stopped"), "stopped")
        XCTAssertEqual(try harness.vessel(["delete", "wvm-2"]).code, 0)
        harness.assertNoTrace("wvm-2")
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/pool@1"))

        try waitForReady()
        XCTAssertEqual(try harness.vessel(["vm", "pool", "drain"]).code, 0)
        assertPoolLeftNothing(directory)
        // Drained, the pool is off: the next run restores from a template.
        let (after, afterLog) = try harness.vmRun(try harness.shellBundle("true"), "wvm-3")
        XCTAssertEqual(after.code, 0, after.stderr)
        XCTAssertFalse(afterLog.contains("pool VM"), afterLog)
        XCTAssertTrue(afterLog.contains("restored from template"), afterLog)
    }

    /// Two pool VMs come from one template; each container draws its own
    /// random bytes and has the host's time, though its VM waited ready.
    func testPoolVMsDrawTheirOwnRandomBytesAndKeepTheHostsTime() throws {
        XCTAssertEqual(try harness.vessel(["vm", "pool", "fill", "--count", "2"]).code, 0)
        sleep(3)  // longer than the tolerance: a clock left at the restore's time would show it
        let script =
            "head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \\n'; echo;"
            + " adjtimex | awk '/tv_sec/ {s=$2} /tv_usec/ {u=$2} END {printf \"%d.%06d\\n\", s, u}'"
        let bundle = try harness.shellBundle(script)
        var randoms: [String] = []
        for id in ["wvm-a", "wvm-b"] {
            let before = Date().timeIntervalSince1970
            let (outcome, log) = try harness.vmRun(bundle, id)
            let after = Date().timeIntervalSince1970
            XCTAssertEqual(outcome.code, 0, outcome.stderr)
            XCTAssertTrue(log.contains("vm: pool VM"), log)
            let lines = outcome.stdout.split(separator: "\n").map(String.init)
            guard lines.count == 2, let guestTime = Double(lines[1]) else { return XCTFail("unexpected output: \(outcome.stdout)") }
            XCTAssertEqual(lines[0].count, 64, lines[0])
            randoms.append(lines[0])
            XCTAssertGreaterThanOrEqual(guestTime, before - 1, "the guest's clock is behind the host's")
            XCTAssertLessThanOrEqual(guestTime, after + 1, "the guest's clock is ahead of the host's")
        }
        XCTAssertNotEqual(randoms[0], randoms[1], "two pool VMs drew the same random bytes")
        // A smaller count ends the VMs beyond it (after the refills in flight).
        XCTAssertEqual(try harness.vessel(["vm", "pool", "fill", "--count", "1"]).code, 0)
        let left = try entries()
        XCTAssertEqual(left.values.filter { $0 == "ready" }.count, 1, "\(left)")
    }

    /// A create that fails after taking a VM (the guest cannot set a sysctl
    /// its kernel does not have) says why in one line, leaves no state, and
    /// ends the VM it took; the pool refills.
    func testAFailedClaimEndsItsVMAndLeavesNothing() throws {
        XCTAssertEqual(try harness.vessel(["vm", "pool", "fill", "--count", "1"]).code, 0)
        let directory = try XCTUnwrap(poolDirectory())
        let bundle = try harness.shellBundle("true") { $0.setLinux("sysctl", ["net.core.no_such_wvm": "1"]) }
        let outcome = try harness.vessel(["--vm", "run", "-d", "--bundle", bundle, "wvm-bad"])
        XCTAssertNotEqual(outcome.code, 0)
        XCTAssertTrue(outcome.stderr.contains("linux.sysctl.net.core.no_such_wvm"), outcome.stderr)
        XCTAssertEqual(outcome.stderr.split(separator: "\n").count, 1, outcome.stderr)
        harness.assertNoTrace("wvm-bad")
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/pool@0"))
        try waitForReady()
    }
}
