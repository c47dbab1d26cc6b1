import Foundation
import Linux
import OCI
@testable import Runtime
import XCTest

// StateStore.containers(using:except:) finds the records that name a cgroup
// (or one inside it) whether it decodes them or first rules a file out by
// its bytes: written by vessel, with \u escapes, corrupt, or not at all.
final class CgroupUsersTests: XCTestCase {
    private var root = ""
    private var store: StateStore { StateStore(root: root) }
    private let cgroup = Cgroup(mountPoint: "/sys/fs/cgroup", path: "/vessel/web-1")

    override func setUpWithError() throws {
        root = NSTemporaryDirectory() + "vessel-cgroup-users-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: root) }

    private func saved(_ id: String, cgroupPath: String?) throws {
        _ = try store.claim(try ContainerID(id))
        var record = ContainerRecord(
            id: id, bundle: "/b", rootfs: "/b/rootfs", pid: 0, pidStartTime: 0, created: "2026-01-01T00:00:00Z",
            owner: "", annotations: ["note": "web-2 \"quoted\""], cgroupMountPoint: cgroupPath == nil ? nil : "/sys/fs/cgroup",
            cgroupPath: cgroupPath, hooks: nil, ociVersion: SpecVersion.current)
        record.process = Process(args: ["sh", "-c", "echo /vessel/web-1"])
        try store.save(record)
    }

    private func written(_ id: String, _ text: String) throws {
        _ = try store.claim(try ContainerID(id))
        try text.write(toFile: root + "/" + id + "/state.json", atomically: false, encoding: .utf8)
    }

    private func users(except id: String = "self") throws -> [String] {
        store.containers(using: cgroup, except: try ContainerID(id)).map(\.id).sorted()
    }

    func testRecordsThatNameTheCgroupOrOneInsideIt() throws {
        try saved("self", cgroupPath: "/vessel/web-1")
        try saved("same", cgroupPath: "/vessel/web-1")
        try saved("inside", cgroupPath: "/vessel/web-1/child")
        try saved("sibling", cgroupPath: "/vessel/web-10")
        try saved("other", cgroupPath: "/vessel/web-2")
        try saved("none", cgroupPath: nil)
        // The name appears only outside the cgroup fields: decoded, then left out.
        try saved("mention", cgroupPath: "/elsewhere")
        XCTAssertEqual(try users(), ["inside", "same"])
    }

    func testEscapedAndCorruptRecordsStillCount() throws {
        // The same path with every character escaped: no byte of "web-1" in the file.
        try written(
            "escaped",
            #"{"cgroupMountPoint":"\/sys\/fs\/cgroup","cgroupPath":"\u002f\u0076essel\u002f\u0077\u0065\u0062\u002d\u0031","id":"escaped"}"#)
        // A field of the wrong type: salvaged field by field.
        try written("corrupt", #"{"cgroupMountPoint":"/sys/fs/cgroup","cgroupPath":"/vessel/web-1/x","pid":"one"}"#)
        try written("broken", #"{"cgroupPath":"\/vessel\/web-1","pid":"#)
        try written("empty", "")
        XCTAssertEqual(try users(), ["corrupt", "escaped"])
    }

    func testMayNameRulesOutOnlyWhatCannotMatch() {
        let name = StateStore.lastComponent(of: "/vessel/web-1")
        XCTAssertEqual(name, Array("web-1".utf8))
        XCTAssertTrue(StateStore.mayName(name, in: Data(#"{"cgroupPath":"\/vessel\/web-1"}"#.utf8)))
        XCTAssertFalse(StateStore.mayName(name, in: Data(#"{"cgroupPath":"\/vessel\/web-2"}"#.utf8)))
        XCTAssertTrue(StateStore.mayName(name, in: Data(#"{"cgroupPath":"\/vessel\/web\u002d1"}"#.utf8)))
        XCTAssertFalse(StateStore.mayName(name, in: Data()))
        // Nothing to look for: always decoded.
        XCTAssertNil(StateStore.lastComponent(of: "/"))
        XCTAssertNil(StateStore.lastComponent(of: "/vessel/a\"b"))
        XCTAssertNil(StateStore.lastComponent(of: "/vessel/a\\b"))
        XCTAssertTrue(StateStore.mayName(nil, in: Data("{}".utf8)))
    }
}
