import Foundation
import XCTest

// A pod in VM mode is one VM: the sandbox (org.vessel.vm.pod=sandbox, or
// CRI's container-type annotation) boots it, and a later VM-mode container
// that names the sandbox's namespaces by path runs inside it, joining them
// there. Each fact is read from inside the guest (files the containers
// write into a shared directory) or from the host's process and mount tables.
final class VMPodTests: XCTestCase {
    var harness: Harness!

    /// What the containers write, at /shared (not the scratch directory,
    /// which holds the state root: a recursive bind of it would copy the
    /// pod's binds).
    var shared: String { harness.scratch + "/shared" }

    override func setUpWithError() throws {
        harness = try Harness()
        if let missing = CRITests.vmMissing() { throw XCTSkip(missing) }
        try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: true)
    }

    override func tearDown() { harness?.cleanUp() }

    /// A running sandbox with new pid, network, ipc and uts namespaces and
    /// the scratch directory at /shared; returns its host pid.
    func startSandbox(_ id: String, script: String, hostname: String = "pod-host") throws -> Int32 {
        let bundle = try harness.shellBundle(script) { config in
            config["hostname"] = hostname
            config["annotations"] = ["org.vessel.vm.pod": "sandbox"]
            self.addMount(&config, "/shared", self.shared)
        }
        let created = try harness.vessel(["--vm", "create", "--bundle", bundle, id])
        XCTAssertEqual(created.code, 0, created.stderr)
        XCTAssertEqual(try harness.vessel(["start", id]).code, 0)
        return try XCTUnwrap((try harness.state(id))?["pid"] as? Int).map { Int32($0) } ?? 0
    }

    /// A member's bundle: it joins `joins` of the sandbox's namespaces by
    /// their /proc paths, as CRI and podman give them.
    func memberBundle(sandbox pid: Int32, joins: [String], script: String, mounts: [(String, String)] = []) throws -> String {
        try harness.shellBundle(script) { config in
            // CRI gives no hostname to a pod's containers: a member's would
            // be set in the pod's UTS namespace, as runc does.
            config.removeValue(forKey: "hostname")
            let names = ["pid": "pid", "network": "net", "ipc": "ipc", "uts": "uts"]
            var namespaces: [[String: Any]] = [["type": "mount"]]
            for type in ["pid", "network", "ipc", "uts"] {
                namespaces.append(joins.contains(type) ? ["type": type, "path": "/proc/\(pid)/ns/\(names[type] ?? type)"] : ["type": type])
            }
            config.setLinux("namespaces", namespaces)
            self.addMount(&config, "/shared", self.shared)
            for (destination, source) in mounts { self.addMount(&config, destination, source) }
        }
    }

    func addMount(_ config: inout [String: Any], _ destination: String, _ source: String) {
        var mounts = config["mounts"] as? [[String: Any]] ?? []
        mounts.append(["destination": destination, "type": "bind", "source": source, "options": ["rbind", "rw"]])
        config["mounts"] = mounts
    }

    func qemuProcesses() -> [String] { Harness.processes(mentioning: harness.stateRoot).filter { $0.contains("qemu-system") } }

    func waitForFile(_ path: String, seconds: Int = 30) -> String? {
        for _ in 0..<(seconds * 10) {
            if let text = try? String(contentsOfFile: path, encoding: .utf8), text.hasSuffix("end\n") { return text }
            usleep(100_000)
        }
        return nil
    }

    /// The member sees the sandbox's hostname, PID 1, IPC objects and
    /// loopback; both run under one QEMU; the member's exit status is its
    /// relay's and its state's; deleting it leaves the sandbox running and
    /// nothing of the member behind.
    func testAPodsContainersShareOneVMAndItsNamespaces() throws {
        let sandbox = try startSandbox(
            "pod-sb",
            script: "touch /dev/mqueue/from-sandbox; nc -ll -p 7000 -e echo pong & while true; do sleep 1; done")
        let bundle = try memberBundle(
            sandbox: sandbox, joins: ["pid", "network", "ipc", "uts"],
            script: "{ hostname; tr '\\0' ' ' < /proc/1/cmdline; echo; ls /dev/mqueue; nc 127.0.0.1 7000 </dev/null; echo end; } > /shared/member.out; exit 7"
        )
        let created = try harness.vessel(["--vm", "create", "--bundle", bundle, "pod-m1"])
        XCTAssertEqual(created.code, 0, created.stderr)
        let state = try XCTUnwrap(try harness.state("pod-m1"))
        let annotations = try XCTUnwrap(state["annotations"] as? [String: String])
        XCTAssertEqual(annotations["org.vessel.vm.pod-sandbox"], "pod-sb")
        XCTAssertEqual(qemuProcesses().count, 1, "\(qemuProcesses())")

        XCTAssertEqual(try harness.vessel(["start", "pod-m1"]).code, 0)
        let output = try XCTUnwrap(waitForFile(shared + "/member.out"), "the member wrote nothing")
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(lines.first, "pod-host", output)
        XCTAssertTrue(lines.count > 1 && lines[1].contains("from-sandbox"), "PID 1 is not the sandbox's process: \(output)")
        XCTAssertTrue(lines.contains("from-sandbox"), "the sandbox's message queue is not visible: \(output)")
        XCTAssertTrue(lines.contains("pong"), "nothing answered on the pod's loopback: \(output)")
        XCTAssertEqual(try harness.waitForStatus("pod-m1", "stopped"), "stopped")
        XCTAssertEqual(try String(contentsOfFile: harness.stateRoot + "/pod-m1/exit-code", encoding: .utf8), "7")

        // A second member: exec, kill and delete while the sandbox runs on.
        let second = try memberBundle(sandbox: sandbox, joins: ["network", "ipc", "uts"], script: "trap 'exit 3' TERM; while true; do sleep 0.1; done")
        XCTAssertEqual(try harness.vessel(["--vm", "run", "-d", "--bundle", second, "pod-m2"]).code, 0)
        let exec = try harness.vessel(["exec", "pod-m2", "sh", "-c", "hostname; exit 4"])
        XCTAssertEqual(exec.code, 4, exec.stderr)
        XCTAssertEqual(exec.stdout, "pod-host\n")
        XCTAssertEqual(try harness.vessel(["kill", "pod-m2", "TERM"]).code, 0)
        XCTAssertEqual(try harness.waitForStatus("pod-m2", "stopped"), "stopped")
        for member in ["pod-m1", "pod-m2"] {
            XCTAssertEqual(try harness.vessel(["delete", member]).code, 0)
            harness.assertNoTrace(member)
        }
        XCTAssertEqual(try harness.status("pod-sb"), "running")
        XCTAssertEqual(try harness.vessel(["delete", "--force", "pod-sb"]).code, 0)
        harness.assertNoTrace("pod-sb")
        XCTAssertEqual(qemuProcesses(), [])
    }

    /// Host safety: a member's volume is a slave of the host's mount. A
    /// mount the host makes below it after the start reaches the guest;
    /// deleting the member and the sandbox unmounts nothing of the host's
    /// (an unmount below a shared mount would unmount its peers' copies).
    func testHostMountsReachAMemberAndItsTeardownLeavesTheHostsMounts() throws {
        let volume = harness.scratch + "/volume"
        let later = volume + "/later"
        try FileManager.default.createDirectory(atPath: volume, withIntermediateDirectories: true)
        XCTAssertEqual(mount("tmpfs", volume, "tmpfs", 0, nil), 0)
        defer {
            umount2(later, Int32(MNT_DETACH))
            umount2(volume, Int32(MNT_DETACH))
        }
        XCTAssertEqual(mount(nil, volume, nil, UInt(MS_SHARED), nil), 0)
        let sandbox = try startSandbox("pod-vol-sb", script: "while true; do sleep 1; done")
        let bundle = try memberBundle(sandbox: sandbox, joins: ["network", "ipc", "uts"], script: "while true; do sleep 1; done", mounts: [("/volume", volume)])
        XCTAssertEqual(try harness.vessel(["--vm", "run", "-d", "--bundle", bundle, "pod-vol-m"]).code, 0)

        try FileManager.default.createDirectory(atPath: later, withIntermediateDirectories: true)
        XCTAssertEqual(mount("tmpfs", later, "tmpfs", 0, nil), 0)
        try "from-the-host\n".write(toFile: later + "/marker", atomically: false, encoding: .utf8)
        let seen = try harness.vessel(["exec", "pod-vol-m", "cat", "/volume/later/marker"])
        XCTAssertEqual(seen.stdout, "from-the-host\n", seen.stderr)

        XCTAssertEqual(try harness.vessel(["delete", "--force", "pod-vol-m"]).code, 0)
        XCTAssertEqual(try harness.vessel(["delete", "--force", "pod-vol-sb"]).code, 0)
        let mounts = try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)
        XCTAssertTrue(mounts.contains(" \(later) "), "the host's mount below the volume was unmounted")
        XCTAssertEqual(try? String(contentsOfFile: later + "/marker", encoding: .utf8), "from-the-host\n")
        harness.assertNoTrace("pod-vol-m")
        harness.assertNoTrace("pod-vol-sb")
    }

    /// Joining a sandbox that has stopped fails in create with one line and
    /// leaves no state.
    func testJoiningAStoppedSandboxFailsInCreate() throws {
        let sandbox = try startSandbox("pod-gone-sb", script: "sleep 1")
        let bundle = try memberBundle(sandbox: sandbox, joins: ["network", "ipc"], script: "true")
        XCTAssertEqual(try harness.waitForStatus("pod-gone-sb", "stopped"), "stopped")
        let outcome = try harness.vessel(["--vm", "create", "--bundle", bundle, "pod-gone-m"])
        XCTAssertEqual(outcome.code, 1)
        XCTAssertEqual(outcome.stderr.split(separator: "\n").count, 1, outcome.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: harness.stateRoot + "/pod-gone-m"))
    }
}
