import Linux
import OCI
import XCTest

/// When the process that enters a container may start in place, and why it
/// re-executes vessel otherwise (see InitLaunch).
final class InitLaunchTests: XCTestCase {
    let defaultCaps = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"]

    func process(uid: UInt32 = 0, caps: [String]? = nil, ambient: [String]? = nil, noNewPrivileges: Bool = false) -> OCI.Process {
        var process = OCI.Process(args: ["true"])
        process.user.uid = uid
        let names = caps ?? defaultCaps
        process.capabilities = Capabilities(bounding: names, effective: names, inheritable: nil, permitted: names, ambient: ambient)
        process.noNewPrivileges = noNewPrivileges
        return process
    }

    func choose(
        _ process: OCI.Process, bounding: [Capabilities?] = [], hostUser: Bool = true, writesProc: Bool = false,
        label: Bool = false, nonRootParent: Bool = false, forced: Bool = false
    ) -> InitLaunch {
        InitLaunch.choose(
            process: process, containerBounding: bounding, hostUserNamespace: hostUser,
            writesOwnProc: writesProc, execLabel: label, nonRootParent: nonRootParent,
            forced: forced, lastCap: 40)
    }

    func testAPlainContainerStartsInPlace() {
        XCTAssertEqual(choose(process()), .inPlace)
        XCTAssertEqual(choose(process(noNewPrivileges: true)), .inPlace, "root: a second execve computes the same sets")
        XCTAssertEqual(choose(process(uid: 1000)), .inPlace)
    }

    func testTheOverrideForcesReexec() {
        XCTAssertEqual(choose(process(), forced: true), .reexec(because: "VESSEL_INIT_REEXEC is set"))
    }

    func testSysPtraceInTheHostsUserNamespaceForcesReexec() {
        XCTAssertNotEqual(choose(process(caps: defaultCaps + ["CAP_SYS_PTRACE"])), .inPlace)
        let container = Capabilities(bounding: ["CAP_SYS_PTRACE"], effective: nil, inheritable: nil, permitted: nil, ambient: nil)
        XCTAssertNotEqual(choose(process(), bounding: [container]), .inPlace, "another process of the container may hold it")
        XCTAssertEqual(
            choose(process(caps: defaultCaps + ["CAP_SYS_PTRACE"]), hostUser: false), .inPlace,
            "in its own user namespace it cannot reach our non-dumpable process")
    }

    func testProcWritesInAUserNamespaceForceReexec() {
        XCTAssertNotEqual(choose(process(), hostUser: false, writesProc: true), .inPlace)
        XCTAssertEqual(choose(process(), hostUser: true, writesProc: true), .inPlace)
    }

    func testAnExecLabelForcesReexec() {
        XCTAssertNotEqual(choose(process(), label: true), .inPlace)
    }

    func testNonRootCapabilitiesOutsideAmbientWithNoNewPrivsForceReexec() {
        XCTAssertNotEqual(choose(process(uid: 1000, noNewPrivileges: true)), .inPlace)
        XCTAssertEqual(choose(process(uid: 1000, ambient: defaultCaps, noNewPrivileges: true)), .inPlace)
        XCTAssertEqual(choose(process(uid: 1000, caps: [], noNewPrivileges: true)), .inPlace)
    }

    /// A rootless runtime writes the init's id maps and reads its namespaces
    /// through /proc/<pid>, which a non-dumpable init keeps from it.
    func testANonRootRuntimesInitIsReexecuted() {
        XCTAssertNotEqual(choose(process(), hostUser: false, nonRootParent: true), .inPlace)
    }
}
