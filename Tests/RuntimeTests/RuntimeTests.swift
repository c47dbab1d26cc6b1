import Errors
import Foundation
import Glibc
import OCI
@testable import Runtime
import XCTest

// The lifecycle's logic without root: a state store in a scratch directory,
// records naming this test process (alive, with its real start time) or no
// process at all. Nothing here creates a namespace, mount or cgroup.
final class RuntimeTests: XCTestCase {
    private var root = ""
    private var store: StateStore { StateStore(root: root) }

    override func setUpWithError() throws {
        root = NSTemporaryDirectory() + "vessel-runtime-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: root) }

    private func record(_ id: String, pid: Int32 = 0, startTime: UInt64 = 0) -> ContainerRecord {
        ContainerRecord(
            id: id, bundle: "/nonexistent", rootfs: "/nonexistent", pid: pid, pidStartTime: startTime,
            created: "2026-01-01T00:00:00Z", owner: "", annotations: nil, cgroupMountPoint: nil,
            cgroupPath: nil, hooks: nil, ociVersion: SpecVersion.current)
    }

    private func saved(_ record: ContainerRecord) throws -> ContainerID {
        let id = try ContainerID(record.id)
        _ = try store.claim(id)
        try store.save(record)
        return id
    }

    private var ourStartTime: UInt64 { ProcessStat(pid: getpid())?.startTime ?? 0 }

    // MARK: status is derived, never stored

    func testStatusFollowsTheProcessAndTheFIFO() throws {
        XCTAssertEqual(store.status(of: record("c1")), .creating, "no pid yet")
        let live = record("c2", pid: getpid(), startTime: ourStartTime)
        let id = try saved(live)
        XCTAssertEqual(mkfifo(store.fifo(id), 0o600), 0)
        XCTAssertEqual(store.status(of: live), .created, "the exec FIFO is there")
        unlink(store.fifo(id))
        XCTAssertEqual(store.status(of: live), .running)
        XCTAssertEqual(
            store.status(of: record("c3", pid: getpid(), startTime: ourStartTime + 1)), .stopped,
            "a reused pid is not the container's")
        XCTAssertEqual(store.status(of: record("c4", pid: 999_999_999, startTime: 1)), .stopped)
    }

    func testTheBackendIsChosenOnceFromTheRecord() {
        XCTAssertTrue(record("c1").backend(in: store) is NamespaceBackend)
        var vm = record("c2")
        vm.vm = VMInfo(qemuPID: 1, accelerator: "tcg", guestKernel: "6.1")
        XCTAssertTrue(vm.backend(in: store) is VMBackend)
        XCTAssertEqual(vm.backend(in: store).stateAnnotations(of: vm)["org.vessel.vm.accelerator"], "tcg")
    }

    /// A pod member is served by its sandbox's supervisor; a sandbox id in
    /// state.json that is not an id (a forged "../x") names no directory.
    func testAPodMembersSandboxIsAnIDNeverAPath() {
        var member = record("m1")
        member.vm = VMInfo(qemuPID: 1, accelerator: "tcg", guestKernel: "6.1")
        member.vm?.sandbox = "sb1"
        let backend = VMBackend(store: store)
        XCTAssertEqual(backend.target(member).supervisorDirectory, store.root + "/sb1")
        XCTAssertTrue(backend.target(member).isMember)
        member.vm?.sandbox = "../../etc"
        XCTAssertNil(member.vm?.sandboxID)
        XCTAssertEqual(backend.target(member).supervisorDirectory, store.root + "/m1")
        XCTAssertFalse(backend.target(member).isMember)
    }

    // MARK: cleanup and deletion leave nothing

    func testAFailedCreateLeavesNoStateDirectory() throws {
        let id = try ContainerID("half")
        _ = try store.claim(id)
        var cleanup = Cleanup(store: store, id: id)
        cleanup.run()
        XCTAssertFalse(FileManager.default.fileExists(atPath: store.directory(id)))
    }

    func testASucceededCreateKeepsItsState() throws {
        let id = try ContainerID("whole")
        _ = try store.claim(id)
        var cleanup = Cleanup(store: store, id: id)
        cleanup.succeeded()
        cleanup.run()
        XCTAssertTrue(FileManager.default.fileExists(atPath: store.directory(id)))
    }

    func testDeletingAStoppedContainerRemovesItsState() throws {
        let id = try saved(record("gone", pid: 999_999_999, startTime: 1))
        let lifecycle = Lifecycle(store: store) { _ in }
        try lifecycle.delete(id, force: false)
        XCTAssertFalse(FileManager.default.fileExists(atPath: store.directory(id)))
        XCTAssertThrowsError(try lifecycle.report(id)) { XCTAssertEqual(($0 as? VesselError)?.kind, .notFound) }
    }

    func testARunningContainerIsNotDeletedWithoutForce() throws {
        let id = try saved(record("alive", pid: getpid(), startTime: ourStartTime))
        XCTAssertThrowsError(try Lifecycle(store: store) { _ in }.delete(id, force: false)) {
            XCTAssertEqual(($0 as? VesselError)?.kind, .wrongState)
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: store.directory(id)))
    }

    func testCorruptStateIsOneWarningInListAndAnErrorInState() throws {
        _ = try saved(record("good", pid: 999_999_999, startTime: 1))
        let bad = try ContainerID("bad")
        _ = try store.claim(bad)
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: store.directory(bad) + "/state.json"))
        var warnings: [String] = []
        let lifecycle = Lifecycle(store: store) { warnings.append($0) }
        XCTAssertEqual(lifecycle.list().map(\.id), ["good"])
        XCTAssertEqual(warnings.count, 1)
        XCTAssertTrue(warnings.first?.contains("bad") ?? false, "\(warnings)")
        XCTAssertThrowsError(try lifecycle.report(bad)) { XCTAssertEqual(($0 as? VesselError)?.kind, .corruptState) }
    }

    // MARK: pure decisions of create

    func testRelativeBindSourcesAreRelativeToTheBundle() {
        let mounts = [
            Mount(destination: "/a", type: "bind", source: "data", options: ["bind"]),
            Mount(destination: "/b", type: "tmpfs", source: "tmpfs"),
            Mount(destination: "/c", type: "bind", source: "/abs", options: ["rbind"]),
        ]
        let resolved = ContainerCreator.bindSourcesResolved(mounts, bundle: "/bundles/b1")
        XCTAssertEqual(resolved.map(\.source), ["/bundles/b1/data", "tmpfs", "/abs"])
    }

    func testUnknownBindOptionsAreRefusedNamingTheField() {
        XCTAssertThrowsError(try HostPreflight.checkMountOptions([Mount(destination: "/a", type: "bind", source: "/x", options: ["rbind", "bogus"])])) {
            XCTAssertEqual(($0 as? VesselError)?.field, "mounts[0].options")
        }
    }

    func testErrorsKeepTheirFieldAndErrnoWhenWrapped() {
        let inner = VesselError.system("open /x", errno: .noSuchFileOrDirectory)
        let outer = inner.wrapped("config.json: mounts[2] (/data)", field: "mounts[2]")
        XCTAssertEqual(outer.description, "config.json: mounts[2] (/data): open /x: No such file or directory")
        XCTAssertEqual(outer.errno, .noSuchFileOrDirectory)
        XCTAssertEqual(outer.field, "mounts[2]")
        XCTAssertEqual(outer.kind, .system)
    }
}
