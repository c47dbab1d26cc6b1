import Foundation
import MicroVM
import OCI
@testable import Runtime
import XCTest

// Which pool VM a create takes, from the entries' files alone (no QEMU):
// only a ready one whose supervisor lives and whose template key is the
// create's, and never one another create took.
final class VMPoolClaimTests: XCTestCase {
    var pool: VMPool!

    override func setUpWithError() throws {
        pool = VMPool(root: NSTemporaryDirectory() + "vessel-pool-test-" + UUID().uuidString)
        try pool.save(VMPool.Config(count: 2, size: GuestSize(vcpus: 1, memoryMiB: 256), settings: VMSettings()))
    }

    override func tearDown() {
        if let pool { try? FileManager.default.removeItem(atPath: pool.directory) }
    }

    /// An entry as `fill` leaves it; `supervisor` is the process that "runs" it.
    func makeEntry(_ number: Int, key: String, supervisor: pid_t = getpid(), ready: Bool = true, written: Bool = true) throws {
        let directory = pool.entryDirectory(number)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if written {
            let entry = VMPool.Entry(
                key: key, supervisorPID: supervisor, supervisorStartTime: ProcessStat(pid: supervisor)?.startTime ?? 1,
                qemuPID: 0, guestKernel: "6.1", accelerator: "tcg", boot: "template x")
            try JSONEncoder().encode(entry).write(to: URL(fileURLWithPath: directory + "/entry.json"))
        }
        if ready { XCTAssertTrue(FileManager.default.createFile(atPath: directory + "/ready", contents: Data())) }
    }

    func testOnlyAReadyLiveVMWithTheSameKeyIsTakenAndOnlyOnce() throws {
        let exited = Process()
        exited.executableURL = URL(fileURLWithPath: "/bin/true")
        try exited.run()
        exited.waitUntilExit()
        try makeEntry(0, key: "other shape")
        try makeEntry(1, key: "K", supervisor: exited.processIdentifier)
        try makeEntry(2, key: "K", ready: false, written: false)
        try makeEntry(3, key: "K")
        XCTAssertEqual(pool.numbers(), [0, 1, 2, 3])
        XCTAssertEqual(pool.status(0), .ready)
        XCTAssertEqual(pool.status(1), .dead)
        XCTAssertEqual(pool.status(2), .warming)

        let claimed = try XCTUnwrap(pool.claim(key: "K"))
        XCTAssertEqual(claimed.number, 3)
        XCTAssertEqual(claimed.directory, pool.entryDirectory(3))
        XCTAssertEqual(pool.status(3), .claimed)
        XCTAssertNil(pool.claim(key: "K"), "a VM was taken twice, or a dead or warming one was taken")
        XCTAssertEqual(pool.claim(key: "other shape")?.number, 0)
    }

    func testAPoolTurnedOffGivesNothing() throws {
        try makeEntry(0, key: "K")
        try pool.save(VMPool.Config(count: 0, size: GuestSize(vcpus: 1, memoryMiB: 256), settings: VMSettings()))
        XCTAssertNil(pool.claim(key: "K"))
        try FileManager.default.removeItem(atPath: pool.directory + "/pool.json")
        XCTAssertNil(pool.claim(key: "K"))
    }

    /// An entry's directory is never a container id (VMTarget.isMember
    /// compares the two), whatever the number a state file holds.
    func testEntryDirectoriesAreNoContainerIDs() {
        for number in [0, 7, -1] {
            let name = (pool.entryDirectory(number) as NSString).lastPathComponent
            XCTAssertThrowsError(try ContainerID(name), name)
            XCTAssertTrue(VMTarget(supervisorDirectory: pool.entryDirectory(number), id: "\(number)").isMember)
        }
    }
}
