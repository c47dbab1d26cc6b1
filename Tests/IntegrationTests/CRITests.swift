import Foundation
import Synchronization
import XCTest

// Kubernetes' Container Runtime Interface through containerd 1.6's CRI
// plugin, for the runtime handlers runc (for comparison), vessel and
// vessel-vm. Tests/cri/cri_suite.py starts its own containerd inside a
// private mount and network namespace (the CNI bridge, its addresses and
// iptables rules, the pod network namespaces and /run/containerd stay
// there), drives it with a gRPC client generated from Tests/cri/api.proto,
// and writes each scenario's outcome; the suite runs once for the class and
// each test below asserts one scenario of one handler. A scenario this host
// cannot run is skipped with the suite's reason.
final class CRITests: XCTestCase {
    struct Outcome: Decodable {
        var status: String
        var detail: String
        var seconds: Double
    }

    struct Results: Decodable {
        var handlers: [String: [String: Outcome]]
        var after: After
    }

    struct After: Decodable {
        var leftovers: [String]?
    }

    static let handlers = ["runc", "vessel", "vessel-vm"]
    static var suite: Result<Results, Error>? {
        get { state.withLock { $0.suite } }
        set { state.withLock { $0.suite = newValue } }
    }
    static var scratch: String? {
        get { state.withLock { $0.scratch } }
        set { state.withLock { $0.scratch = newValue } }
    }
    private static let state = Mutex<(suite: Result<Results, Error>?, scratch: String?)>((nil, nil))

    override class func tearDown() {
        if let scratch { try? FileManager.default.removeItem(atPath: scratch) }
        scratch = nil
        suite = nil
        super.tearDown()
    }

    /// Why the suite cannot run here, if it cannot.
    static func missingPrerequisite() -> String? {
        let files =
            [
                "/usr/bin/containerd", "/usr/bin/ctr", "/usr/bin/containerd-shim-runc-v2", "/usr/sbin/runc",
                "/usr/bin/unshare", "/usr/bin/gcc",
            ] + ["bridge", "host-local", "loopback", "portmap"].map { "/usr/lib/cni/" + $0 }
        if let missing = files.first(where: { !FileManager.default.isExecutableFile(atPath: $0) }) {
            return "\(missing) is missing: run scripts/install-deps.sh (containerd, runc, containernetworking-plugins)"
        }
        if (try? Harness.execute("/usr/bin/python3", ["-c", "import grpc, grpc_tools"]))?.code != 0 {
            return "python3 lacks grpcio-tools: run scripts/install-deps.sh"
        }
        return nil
    }

    /// The VM handler needs the guest kernel and QEMU; without them the
    /// suite runs the other two and vessel-vm's tests skip.
    static func vmMissing() -> String? { Harness.vmMissing() }

    static func runSuite() throws -> Results {
        if let suite { return try suite.get() }
        let result = Result(catching: { () throws -> Results in
            if let missing = missingPrerequisite() { throw XCTSkip(missing) }
            let directory = NSTemporaryDirectory() + "vessel-cri-" + UUID().uuidString.prefix(8)
            scratch = directory
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let handlers = handlers.filter { $0 != "vessel-vm" || vmMissing() == nil }
            let out = directory + "/results.json"
            let run = try Harness.start(
                "/usr/bin/unshare",
                [
                    "--mount", "--net", "--propagation", "private", "/usr/bin/python3",
                    Harness.packageRoot + "/Tests/cri/cri_suite.py", "--scratch", directory + "/run",
                    "--vessel", Harness.vesselBinary, "--out", out, "--handlers", handlers.joined(separator: ","),
                ])
            if !run.wait(timeoutSeconds: 900) {
                kill(run.pid, SIGKILL)
                run.wait()
            }
            let outcome = run.outcome()
            guard let data = FileManager.default.contents(atPath: out) else {
                throw SuiteError(message: "cri_suite.py wrote no results (exit \(outcome.code)): \(outcome.stderr.suffix(2000))")
            }
            return try JSONDecoder().decode(Results.self, from: data)
        })
        suite = result
        return try result.get()
    }

    struct SuiteError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    func check(_ handler: String, _ scenario: String, file: StaticString = #filePath, line: UInt = #line) throws {
        _ = try Harness()
        if handler == "vessel-vm", let missing = Self.vmMissing() { throw XCTSkip(missing) }
        let results = try Self.runSuite()
        let outcome = try XCTUnwrap(results.handlers[handler]?[scenario], "\(handler): \(scenario) did not run", file: file, line: line)
        switch outcome.status {
        case "skip": throw XCTSkip("\(handler): \(outcome.detail)")
        case "pass": break
        default: XCTFail("\(handler): \(scenario): \(outcome.detail)", file: file, line: line)
        }
    }

    func testNothingOutlivesContainerd() throws {
        _ = try Harness()
        let results = try Self.runSuite()
        XCTAssertEqual(results.after.leftovers ?? ["no record"], [])
    }

    // Every scenario, for each handler, in the order the suite runs them.

    func testRuncRunPodSandbox() throws { try check("runc", "run_pod_sandbox") }
    func testVesselRunPodSandbox() throws { try check("vessel", "run_pod_sandbox") }
    func testVesselVMRunPodSandbox() throws { try check("vessel-vm", "run_pod_sandbox") }

    func testRuncCreateStartContainer() throws { try check("runc", "create_start_container") }
    func testVesselCreateStartContainer() throws { try check("vessel", "create_start_container") }
    func testVesselVMCreateStartContainer() throws { try check("vessel-vm", "create_start_container") }

    func testRuncPodNetwork() throws { try check("runc", "pod_network") }
    func testVesselPodNetwork() throws { try check("vessel", "pod_network") }
    func testVesselVMPodNetwork() throws { try check("vessel-vm", "pod_network") }

    func testRuncPodSharedNamespaces() throws { try check("runc", "pod_shared_namespaces") }
    func testVesselPodSharedNamespaces() throws { try check("vessel", "pod_shared_namespaces") }
    func testVesselVMPodSharedNamespaces() throws { try check("vessel-vm", "pod_shared_namespaces") }

    func testRuncExecSync() throws { try check("runc", "exec_sync") }
    func testVesselExecSync() throws { try check("vessel", "exec_sync") }
    func testVesselVMExecSync() throws { try check("vessel-vm", "exec_sync") }

    func testRuncExecSyncTimeout() throws { try check("runc", "exec_sync_timeout") }
    func testVesselExecSyncTimeout() throws { try check("vessel", "exec_sync_timeout") }
    func testVesselVMExecSyncTimeout() throws { try check("vessel-vm", "exec_sync_timeout") }

    func testRuncExecStdin() throws { try check("runc", "exec_stdin") }
    func testVesselExecStdin() throws { try check("vessel", "exec_stdin") }
    func testVesselVMExecStdin() throws { try check("vessel-vm", "exec_stdin") }

    func testRuncUpdateContainerResources() throws { try check("runc", "update_container_resources") }
    func testVesselUpdateContainerResources() throws { try check("vessel", "update_container_resources") }
    func testVesselVMUpdateContainerResources() throws { try check("vessel-vm", "update_container_resources") }

    func testRuncUpdateMemoryLimit() throws { try check("runc", "update_memory_limit") }
    func testVesselUpdateMemoryLimit() throws { try check("vessel", "update_memory_limit") }
    func testVesselVMUpdateMemoryLimit() throws { try check("vessel-vm", "update_memory_limit") }

    func testRuncExitCode() throws { try check("runc", "exit_code") }
    func testVesselExitCode() throws { try check("vessel", "exit_code") }
    func testVesselVMExitCode() throws { try check("vessel-vm", "exit_code") }

    func testRuncCRILogFormat() throws { try check("runc", "cri_log_format") }
    func testVesselCRILogFormat() throws { try check("vessel", "cri_log_format") }
    func testVesselVMCRILogFormat() throws { try check("vessel-vm", "cri_log_format") }

    func testRuncStopExitedContainer() throws { try check("runc", "stop_exited_container") }
    func testVesselStopExitedContainer() throws { try check("vessel", "stop_exited_container") }
    func testVesselVMStopExitedContainer() throws { try check("vessel-vm", "stop_exited_container") }

    func testRuncVolumePrivate() throws { try check("runc", "volume_private") }
    func testVesselVolumePrivate() throws { try check("vessel", "volume_private") }
    func testVesselVMVolumePrivate() throws { try check("vessel-vm", "volume_private") }

    func testRuncVolumeHostToContainer() throws { try check("runc", "volume_host_to_container") }
    func testVesselVolumeHostToContainer() throws { try check("vessel", "volume_host_to_container") }
    func testVesselVMVolumeHostToContainer() throws { try check("vessel-vm", "volume_host_to_container") }

    func testRuncVolumeBidirectional() throws { try check("runc", "volume_bidirectional") }
    func testVesselVolumeBidirectional() throws { try check("vessel", "volume_bidirectional") }
    func testVesselVMVolumeBidirectional() throws { try check("vessel-vm", "volume_bidirectional") }

    func testRuncPodSharedPID() throws { try check("runc", "pod_shared_pid") }
    func testVesselPodSharedPID() throws { try check("vessel", "pod_shared_pid") }
    func testVesselVMPodSharedPID() throws { try check("vessel-vm", "pod_shared_pid") }

    func testRuncStopAndRemove() throws { try check("runc", "stop_and_remove") }
    func testVesselStopAndRemove() throws { try check("vessel", "stop_and_remove") }
    func testVesselVMStopAndRemove() throws { try check("vessel-vm", "stop_and_remove") }

    func testRuncNothingLeft() throws { try check("runc", "nothing_left") }
    func testVesselNothingLeft() throws { try check("vessel", "nothing_left") }
    func testVesselVMNothingLeft() throws { try check("vessel-vm", "nothing_left") }
}
