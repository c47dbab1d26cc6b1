@testable import MicroVM
import Foundation
import OSKit
import XCTest

// Templates without QEMU: what the key covers, the command lines of a
// template and a clone, the store's checks before a restore, its lock,
// and the refresh every guest gets.
final class TemplateTests: XCTestCase {
    var scratch = ""
    var files: [String: String] = [:]

    override func setUpWithError() throws {
        scratch = NSTemporaryDirectory() + "vessel-template-tests-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        for name in ["qemu", "vmlinux", "initramfs.cpio", "vessel"] {
            files[name] = scratch + "/" + name
            try Data(name.utf8).write(to: URL(fileURLWithPath: scratch + "/" + name))
        }
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: scratch) }

    func command(
        directory: String = "/run/vessel/c1", vcpus: Int = 1, memory: Int = 256, tsc: Int? = 2_299_998,
        shares: [QemuCommand.Share]? = nil
    ) -> QemuCommand {
        QemuCommand(
            qemu: files["qemu"]!, kernel: files["vmlinux"]!, initramfs: files["initramfs.cpio"]!, accelerator: .tcg,
            size: GuestSize(vcpus: vcpus, memoryMiB: memory), directory: directory,
            shares: shares ?? [.init(tag: "rootfs", hostPath: "/bundles/a/rootfs", readOnly: false)], tscKHz: tsc)
    }

    func key(_ command: QemuCommand) throws -> TemplateKey { try TemplateKey(command: command, binary: files["vessel"]!) }

    /// Containers that differ only in what each has of its own (directory,
    /// share paths, a share's read-only flag) share a template.
    func testTheKeyIgnoresWhatIsPerContainer() throws {
        var other = command(
            directory: "/run/containerd/x/c2",
            shares: [.init(tag: "rootfs", hostPath: "/elsewhere/rootfs", readOnly: true)])
        other.socketDirectory = "/proc/self/fd/9"
        XCTAssertEqual(try key(command()), try key(other))
        XCTAssertFalse(try key(command()).text.contains("/bundles/a/rootfs"))
    }

    /// Anything the restored guest depends on makes another key.
    func testTheKeyCoversSizeDevicesKernelArgumentsAndFiles() throws {
        let base = try key(command())
        var withNetwork = command()
        withNetwork.network = true
        var kvm = command()
        kvm.accelerator = .kvm
        let variants = [
            command(vcpus: 2), command(memory: 512), command(tsc: 2_400_000), command(tsc: nil), withNetwork, kvm,
            command(shares: [.init(tag: "rootfs", hostPath: "/r", readOnly: false), .init(tag: "m1", hostPath: "/d", readOnly: false)]),
        ]
        var hashes: Set<String> = [base.hash]
        for variant in variants {
            let other = try key(variant)
            XCTAssertNotEqual(other, base)
            hashes.insert(other.hash)
        }
        XCTAssertEqual(hashes.count, variants.count + 1)
        // A rebuilt vessel, kernel or QEMU: the old key is stale, the new one differs.
        XCTAssertTrue(base.isCurrent)
        usleep(10_000)
        for name in ["vessel", "vmlinux", "qemu", "initramfs.cpio"] {
            try Data("rebuilt".utf8).write(to: URL(fileURLWithPath: files[name]!))
            XCTAssertFalse(base.isCurrent, name)
            let rebuilt = try key(command())
            XCTAssertNotEqual(rebuilt.hash, base.hash, name)
        }
        XCTAssertThrowsError(try TemplateKey(command: command(), binary: scratch + "/missing"))
    }

    func testTemplateAndCloneCommandLines() {
        let template = command().arguments(memoryFile: "/t/ram", shared: true, incoming: false)
        XCTAssertTrue(template.contains("memory-backend-file,id=vessel-ram,size=256M,mem-path=/t/ram,share=on"))
        XCTAssertTrue(template.contains("memory-backend=vessel-ram"))
        XCTAssertTrue(template.contains("unix:/run/vessel/c1/qmp.sock,server=on,wait=off"))
        XCTAssertFalse(template.contains("-incoming"))
        var clone = command()
        clone.socketDirectory = "/proc/self/fd/5"
        let arguments = clone.arguments(memoryFile: "/proc/self/fd/6", shared: false, incoming: true)
        XCTAssertTrue(arguments.contains("memory-backend-file,id=vessel-ram,size=256M,mem-path=/proc/self/fd/6,share=off"))
        XCTAssertTrue(arguments.contains("unix:/proc/self/fd/5/qmp.sock,server=on,wait=off"))
        XCTAssertEqual(Array(arguments.suffix(2)), ["-incoming", "defer"])
        // Everything else is the container's own command line.
        XCTAssertEqual(Array(arguments.prefix(clone.arguments.count)), clone.arguments)
    }

    // MARK: the store

    func install(
        _ key: TemplateKey, in store: TemplateStore, bootID: String = TemplateStore.hostBootID(), recording recorded: TemplateKey? = nil,
        files names: [String] = [TemplateStore.memoryFile, TemplateStore.stateFile, TemplateStore.stubFile]
    ) throws {
        let directory = store.path(key.hash)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for name in names { try Data(name.utf8).write(to: URL(fileURLWithPath: directory + "/" + name)) }
        let info = TemplateInfo(
            key: recorded ?? key, kernelRelease: "6.1.0", created: Date().timeIntervalSince1970, hostBootID: bootID,
            vcpus: 1, memoryMiB: 256, shares: 1, buildSeconds: 4.25)
        try JSONEncoder().encode(info).write(to: URL(fileURLWithPath: directory + "/" + TemplateStore.infoFile))
    }

    func testOpenChecksTheKeyTheHostBootAndTheFiles() throws {
        let store = TemplateStore(directory: scratch + "/templates")
        let key = try key(command())
        XCTAssertThrowsError(try store.open(key)) { XCTAssertTrue("\($0)".contains("no template"), "\($0)") }
        try install(key, in: store)
        let opened = try store.open(key)
        XCTAssertEqual(opened.info.kernelRelease, "6.1.0")
        XCTAssertGreaterThanOrEqual(opened.memoryFD, 0)
        // Deleted after opening: the open template still reads its files.
        try FileManager.default.removeItem(atPath: store.path(key.hash))
        XCTAssertEqual(String(decoding: try FileIO.readAll(opened.stateFD, name: "state"), as: UTF8.self), TemplateStore.stateFile)

        try install(key, in: store, files: [TemplateStore.memoryFile, TemplateStore.stubFile])
        XCTAssertThrowsError(try store.open(key)) { XCTAssertTrue("\($0)".contains("incomplete"), "\($0)") }
        try install(key, in: store, bootID: "an-earlier-boot")
        XCTAssertThrowsError(try store.open(key)) { XCTAssertTrue("\($0)".contains("earlier boot"), "\($0)") }
        try install(key, in: store, recording: try self.key(command(vcpus: 2)))
        XCTAssertThrowsError(try store.open(key)) { XCTAssertTrue("\($0)".contains("another VM"), "\($0)") }
    }

    /// obtain builds only when there is nothing usable, and a template that
    /// failed once is not built again in this host boot.
    func testObtainBuildsOnceAndRemembersFailures() throws {
        let store = TemplateStore(directory: scratch + "/templates")
        let key = try key(command())
        var builds = 0
        let first = try store.obtain(key, lockTimeoutSeconds: 1) {
            builds += 1; try self.install(key, in: store)
        }
        XCTAssertTrue(first.built)
        let second = try store.obtain(key, lockTimeoutSeconds: 1) { builds += 1 }
        XCTAssertFalse(second.built)
        XCTAssertEqual(builds, 1)
        XCTAssertEqual(store.list().map(\.hash), [key.hash])
        XCTAssertTrue(store.remove(key.hash))
        XCTAssertFalse(store.remove(key.hash))
        XCTAssertEqual(store.list().count, 0)

        store.markFailed(key, reason: "QEMU refused migrate")
        XCTAssertThrowsError(try store.obtain(key, lockTimeoutSeconds: 1) { builds += 1 }) {
            XCTAssertTrue("\($0)".contains("QEMU refused migrate"), "\($0)")
        }
        XCTAssertEqual(builds, 1)
        XCTAssertTrue(store.remove(key.hash), "rm clears the failure")
        XCTAssertNil(store.failure(key))
    }

    /// Stale templates (their vessel changed) and unreadable ones go when
    /// another is built; the newest `kept` stay.
    func testPruneRemovesStaleAndOldTemplates() throws {
        let store = TemplateStore(directory: scratch + "/templates")
        let keys = try (1...(TemplateStore.kept + 2)).map { try key(command(memory: 100 + $0)) }
        for key in keys { try install(key, in: store) }
        try FileManager.default.createDirectory(atPath: store.path("broken"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: store.directory + "/.build-x-999999999", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: store.directory + "/gone.lock", contents: nil)
        store.markFailed(try key(command(vcpus: 2)), reason: "kept: this boot")
        try Data(#"{"hostBootID":"an-earlier-boot","reason":"old"}"#.utf8).write(to: URL(fileURLWithPath: store.directory + "/old.failed"))
        store.prune(keeping: keys[0].hash)
        XCTAssertFalse(FileManager.default.fileExists(atPath: store.directory + "/gone.lock"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: store.directory + "/old.failed"))
        XCTAssertNotNil(store.failure(try key(command(vcpus: 2))))
        XCTAssertEqual(store.list().count, TemplateStore.kept)
        XCTAssertTrue(store.list().contains { $0.hash == keys[0].hash })
        XCTAssertFalse(FileManager.default.fileExists(atPath: store.path("broken")))
        XCTAssertFalse(FileManager.default.fileExists(atPath: store.directory + "/.build-x-999999999"))
        try Data("rebuilt".utf8).write(to: URL(fileURLWithPath: files["vessel"]!))
        store.prune(keeping: "none")
        XCTAssertEqual(store.list().count, 0)
    }

    func testTheLockIsExclusiveAndWaitsABoundedTime() throws {
        let path = scratch + "/x.lock"
        var held: FileLock? = try FileLock(path, timeoutSeconds: 0)
        let started = SystemClock.now()
        XCTAssertThrowsError(try FileLock(path, timeoutSeconds: 0.2)) { XCTAssertTrue("\($0)".contains("still locked"), "\($0)") }
        XCTAssertGreaterThanOrEqual(SystemClock.now() - started, 0.2)
        XCTAssertNotNil(held)
        held = nil  // closed: the kernel drops the lock
        XCTAssertNoThrow(try FileLock(path, timeoutSeconds: 0))
    }

    // MARK: what every guest gets

    func testRefreshCarriesFreshBytesAndTheTime() {
        let one = GuestRefresh.now(), two = GuestRefresh.now()
        XCTAssertEqual(one.entropy.count, GuestRefresh.minimumEntropy)
        XCTAssertNotEqual(one.entropy, two.entropy)
        XCTAssertEqual(Double(one.seconds), Date().timeIntervalSince1970, accuracy: 2)
        XCTAssertEqual(GuestRefresh.now(entropyBytes: 8).entropy.count, GuestRefresh.minimumEntropy)
    }

    func testBootRecordSaysHowTheGuestCameUp() {
        let restored = BootRecord(template: "abc", built: true, reason: nil, seconds: 0.2504)
        XCTAssertEqual(restored.mode, "template abc")
        XCTAssertEqual(restored.logLine, "vm: restored from template abc (built by this create) in 250 ms")
        let cold = BootRecord(template: nil, built: false, reason: "QEMU exited", seconds: 4)
        XCTAssertEqual(cold.mode, "cold")
        XCTAssertEqual(cold.logLine, "vm: cold boot in 4000 ms: template not used: QEMU exited")
    }
}
