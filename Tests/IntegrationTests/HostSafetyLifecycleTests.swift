import Foundation
import XCTest

// The lifecycle must never reach past its own container: a cgroup shared by
// two containers, a corrupt or hostile state.json and a frozen cgroup each
// get the hostile form, then a look at the host (processes, cgroup
// directories, state directories).
final class HostSafetyLifecycleTests: XCTestCase {
    var harness: Harness!
    /// cgroups this test made by hand; removed (thawed, emptied) afterwards.
    var madeCgroups: [String] = []
    /// Host processes this test started; killed and reaped afterwards.
    var started: [Harness.Running] = []

    override func setUpWithError() throws { harness = try Harness() }
    override func tearDown() {
        harness?.cleanUp()
        for running in started {
            kill(running.pid, SIGKILL)
            running.wait()
        }
        for dir in madeCgroups.reversed() { Harness.removeCgroup(dir) }
    }

    static let cgroupRoot = "/sys/fs/cgroup"

    /// A fresh, unique cgroup path (not created) under the cgroup2 root.
    func uniqueCgroupPath() -> String {
        let path = "/vessel-hs-" + UUID().uuidString.prefix(8).lowercased()
        madeCgroups.append(Self.cgroupRoot + path)
        return path
    }

    static func isAlive(_ pid: Int) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        let state = stat[stat.index(after: close)...].split(separator: " ").first
        return state != "Z" && state != "X"
    }

    static func startTime(_ pid: pid_t) throws -> UInt64 {
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        let close = try XCTUnwrap(stat.lastIndex(of: ")"))
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return try XCTUnwrap(UInt64(fields[19]))
    }

    func bundle(_ script: String, cgroupsPath: String) throws -> String {
        try harness.shellBundle(script) { $0.setLinux("cgroupsPath", cgroupsPath) }
    }

    func pid(_ id: String) throws -> Int { try XCTUnwrap(try harness.state(id)?["pid"] as? Int) }

    func stateFile(_ id: String) -> String { harness.stateRoot + "/" + id + "/state.json" }

    // MARK: 7. A shared cgroup

    func testDeletingOneContainerSparesAnotherInTheSameCgroup() throws {
        let path = uniqueCgroupPath()
        let dir = Self.cgroupRoot + path
        // "owner" makes the cgroup; "joiner" and "quick" join it.
        XCTAssertEqual(try harness.vessel(["run", "-d", "--bundle", try bundle("sleep 100", cgroupsPath: path), "owner"]).code, 0)
        let joined = try harness.vessel(["run", "-d", "--bundle", try bundle("sleep 100", cgroupsPath: path), "joiner"])
        XCTAssertEqual(joined.code, 0, joined.stderr)
        XCTAssertTrue(joined.stderr.contains("not empty: 1 process(es) found"), joined.stderr)
        XCTAssertTrue(joined.stderr.contains(dir), joined.stderr)
        XCTAssertEqual(try harness.vessel(["run", "-d", "--bundle", try bundle("true", cgroupsPath: path), "quick"]).code, 0)
        XCTAssertEqual(try harness.waitForStatus("quick", "stopped"), "stopped")
        let owner = try pid("owner"), joiner = try pid("joiner")

        // Deleting the stopped one kills nobody and leaves the cgroup.
        let quick = try harness.vessel(["delete", "quick"])
        XCTAssertEqual(quick.code, 0, quick.stderr)
        XCTAssertTrue(quick.stderr.contains(dir), "the warning names the cgroup: \(quick.stderr)")
        XCTAssertEqual(quick.stderr.split(separator: "\n").count, 1, quick.stderr)
        XCTAssertTrue(Self.isAlive(owner) && Self.isAlive(joiner))
        XCTAssertEqual(try harness.status("owner"), "running")
        XCTAssertEqual(try harness.status("joiner"), "running")
        XCTAssertFalse(FileManager.default.fileExists(atPath: harness.stateRoot + "/quick"))

        // --force on the cgroup's maker, while another still runs in it.
        let forced = try harness.vessel(["delete", "--force", "owner"])
        XCTAssertEqual(forced.code, 0, forced.stderr)
        XCTAssertTrue(forced.stderr.contains(dir), forced.stderr)
        XCTAssertNil(try harness.state("owner"))
        XCTAssertFalse(Self.isAlive(owner), "the deleted container's own init is killed")
        XCTAssertTrue(Self.isAlive(joiner), "the other container is untouched")
        XCTAssertEqual(try harness.status("joiner"), "running")
        XCTAssertTrue(Harness.isDirectory(dir))

        // The last container in it removes the cgroup it shared in making.
        let last = try harness.vessel(["delete", "--force", "joiner"])
        XCTAssertEqual(last.code, 0, last.stderr)
        XCTAssertEqual(last.stderr, "")
        XCTAssertFalse(Self.isAlive(joiner))
        XCTAssertFalse(Harness.isDirectory(dir), "the cgroup is removed with its last container")
    }

    func testDeleteForceRemovesChildCgroupsMadeInside() throws {
        let path = uniqueCgroupPath()
        let dir = Self.cgroupRoot + path
        XCTAssertEqual(try harness.vessel(["run", "-d", "--bundle", try bundle("sleep 100", cgroupsPath: path), "nest"]).code, 0)
        let initPID = try pid("nest")
        // What a container with a writable cgroup namespace can do: make
        // child cgroups and move a process into one.
        try FileManager.default.createDirectory(atPath: dir + "/a/b", withIntermediateDirectories: true)
        try "\(initPID)".write(toFile: dir + "/a/b/cgroup.procs", atomically: false, encoding: .utf8)
        let outcome = try harness.vessel(["delete", "--force", "nest"])
        XCTAssertEqual(outcome.code, 0, outcome.stderr)
        XCTAssertEqual(outcome.stderr, "")
        XCTAssertFalse(Self.isAlive(initPID))
        XCTAssertFalse(Harness.isDirectory(dir), "the container's cgroup and its children are removed")
        harness.assertNoTrace("nest")
    }

    // MARK: 8. A corrupt or hostile state.json

    func testCorruptStateIsReportedAndDeleteForceStillCleansUp() throws {
        let path = uniqueCgroupPath()
        let dir = Self.cgroupRoot + path
        XCTAssertEqual(try harness.vessel(["run", "-d", "--bundle", try bundle("sleep 100", cgroupsPath: path), "broken"]).code, 0)
        XCTAssertEqual(try harness.vessel(["run", "-d", "--bundle", try harness.shellBundle("sleep 100"), "fine"]).code, 0)
        let initPID = try pid("broken")
        // Fields of the wrong type; pid, start time and cgroup still parse.
        var fields = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: stateFile("broken")))) as? [String: Any])
        fields["bundle"] = 42
        fields["created"] = ["not", "a", "time"]
        fields["hooks"] = "garbage"
        try JSONSerialization.data(withJSONObject: fields).write(to: URL(fileURLWithPath: stateFile("broken")))

        let state = try harness.vessel(["state", "broken"])
        XCTAssertNotEqual(state.code, 0)
        XCTAssertEqual(state.stderr.split(separator: "\n").count, 1, state.stderr)
        XCTAssertTrue(state.stderr.contains("corrupt") && state.stderr.contains(stateFile("broken")), state.stderr)

        let list = try harness.vessel(["list", "-q"])
        XCTAssertEqual(list.code, 0, list.stderr)
        XCTAssertEqual(list.stdout, "fine\n")
        XCTAssertEqual(list.stderr.split(separator: "\n").count, 1, list.stderr)
        XCTAssertTrue(list.stderr.contains("broken") && list.stderr.contains("corrupt"), list.stderr)

        let plain = try harness.vessel(["delete", "broken"])
        XCTAssertNotEqual(plain.code, 0)
        XCTAssertEqual(plain.stderr.split(separator: "\n").count, 1, plain.stderr)
        XCTAssertTrue(Self.isAlive(initPID), "a plain delete of a corrupt state changes nothing")

        let forced = try harness.vessel(["delete", "--force", "broken"])
        XCTAssertEqual(forced.code, 0, forced.stderr)
        XCTAssertFalse(Self.isAlive(initPID), "the container's process is killed")
        XCTAssertFalse(Harness.isDirectory(dir), "its cgroup is removed")
        XCTAssertFalse(FileManager.default.fileExists(atPath: harness.stateRoot + "/broken"))
        XCTAssertEqual(try harness.status("fine"), "running", "the other container is untouched")
    }

    func testGarbageStateIsRemovedByDeleteForce() throws {
        XCTAssertEqual(try harness.vessel(["create", "--bundle", try harness.shellBundle("sleep 100"), "junk"]).code, 0)
        let initPID = try pid("junk")
        try Data("\u{0}{{ not json at all".utf8).write(to: URL(fileURLWithPath: stateFile("junk")))
        let state = try harness.vessel(["state", "junk"])
        XCTAssertNotEqual(state.code, 0)
        XCTAssertEqual(state.stderr.split(separator: "\n").count, 1, state.stderr)
        let forced = try harness.vessel(["delete", "--force", "junk"])
        XCTAssertEqual(forced.code, 0, forced.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: harness.stateRoot + "/junk"))
        // Nothing in the file says which process was the container's: it is
        // left alive (and said so) rather than guessed at.
        XCTAssertTrue(Self.isAlive(initPID))
        XCTAssertTrue(forced.stderr.contains("junk"), forced.stderr)
        kill(pid_t(initPID), SIGKILL)
        Harness.removeCgroup(Self.cgroupRoot + "/vessel/junk")
    }

    /// A state.json naming a host process (ours, not a container) and a
    /// cgroup that is not a container's: delete and kill must touch neither.
    func testHostileStateNeverKillsOrRemovesWhatIsNotTheContainers() throws {
        let bystander = try Harness.start("/bin/sleep", ["100"])
        started.append(bystander)
        let startTime = try Self.startTime(bystander.pid)
        // A fake "cgroup" directory on an ordinary file system.
        let fake = harness.scratch + "/fakecg"
        try FileManager.default.createDirectory(atPath: fake + "/c", withIntermediateDirectories: true)
        try "\(bystander.pid)\n".write(toFile: fake + "/c/cgroup.procs", atomically: false, encoding: .utf8)
        // A decoy cgroup with a process in it: a sibling of what the state names.
        let decoyPath = uniqueCgroupPath()
        try FileManager.default.createDirectory(atPath: Self.cgroupRoot + decoyPath, withIntermediateDirectories: false)
        let decoy = try Harness.start("/bin/sleep", ["100"])
        started.append(decoy)
        try "\(decoy.pid)".write(toFile: Self.cgroupRoot + decoyPath + "/cgroup.procs", atomically: false, encoding: .utf8)

        let cases: [(mount: String, path: String)] = [
            ("/sys/fs/cgroup", "/"), ("/sys/fs/cgroup", "/../.."), ("/sys/fs/cgroup", decoyPath + "/.."),
            ("/sys/fs/cgroup", "//" + decoyPath.dropFirst()), ("/sys/fs/cgroup", "relative"), (fake, "/c"),
        ]
        for (index, hostile) in cases.enumerated() {
            let id = "evil\(index)"
            try FileManager.default.createDirectory(atPath: harness.stateRoot + "/" + id, withIntermediateDirectories: true)
            let record: [String: Any] = [
                "id": id, "bundle": harness.scratch, "rootfs": Harness.rootfs, "pid": Int(bystander.pid),
                "pidStartTime": startTime, "created": "2024-01-01T00:00:00Z", "owner": "", "ociVersion": "1.2.0",
                "cgroupMountPoint": hostile.mount, "cgroupPath": hostile.path, "ownsCgroup": true,
            ]
            try JSONSerialization.data(withJSONObject: record).write(to: URL(fileURLWithPath: stateFile(id)))

            let kill = try harness.vessel(["kill", id, "KILL"])
            XCTAssertNotEqual(kill.code, 0, "case \(hostile)")
            XCTAssertEqual(kill.stderr.split(separator: "\n").count, 1, kill.stderr)
            let killAll = try harness.vessel(["kill", "--all", id, "KILL"])
            XCTAssertNotEqual(killAll.code, 0, "case \(hostile)")
            let forced = try harness.vessel(["delete", "--force", id])
            XCTAssertEqual(forced.code, 0, "case \(hostile): \(forced.stderr)")
            XCTAssertEqual(forced.stderr.split(separator: "\n").count, 1, forced.stderr)
            XCTAssertTrue(Self.isAlive(Int(bystander.pid)), "case \(hostile): the host process was killed")
            XCTAssertTrue(Self.isAlive(Int(decoy.pid)), "case \(hostile): the decoy cgroup's process was killed")
            XCTAssertTrue(Harness.isDirectory(Self.cgroupRoot + decoyPath), "case \(hostile): the decoy cgroup was removed")
            XCTAssertTrue(Harness.isDirectory(fake + "/c"), "case \(hostile): the fake cgroup was removed")
            XCTAssertFalse(FileManager.default.fileExists(atPath: harness.stateRoot + "/" + id), "case \(hostile): state left")
        }
        // A VM record whose "supervisor" is the host process.
        try FileManager.default.createDirectory(atPath: harness.stateRoot + "/evilvm", withIntermediateDirectories: true)
        let vmRecord: [String: Any] = [
            "id": "evilvm", "bundle": harness.scratch, "rootfs": Harness.rootfs, "pid": Int(bystander.pid),
            "pidStartTime": startTime, "created": "2024-01-01T00:00:00Z", "owner": "", "ociVersion": "1.2.0",
            "vm": ["qemuPID": Int(decoy.pid), "accelerator": "tcg", "guestKernel": "x"],
        ]
        try JSONSerialization.data(withJSONObject: vmRecord).write(to: URL(fileURLWithPath: stateFile("evilvm")))
        let forcedVM = try harness.vessel(["delete", "--force", "evilvm"])
        XCTAssertEqual(forcedVM.code, 0, forcedVM.stderr)
        XCTAssertTrue(forcedVM.stderr.contains("not this container's VM supervisor"), forcedVM.stderr)
        XCTAssertTrue(Self.isAlive(Int(bystander.pid)) && Self.isAlive(Int(decoy.pid)))
        XCTAssertFalse(FileManager.default.fileExists(atPath: harness.stateRoot + "/evilvm"))

        let procs = try String(contentsOfFile: Self.cgroupRoot + decoyPath + "/cgroup.procs", encoding: .utf8)
        XCTAssertEqual(procs, "\(decoy.pid)\n")
    }

    /// A cgroupsPath that resolves to the root or to vessel's own cgroup
    /// would put the host's processes in the container's cgroup: refused.
    func testCreateRefusesACgroupThatCannotBeTheContainersOwn() throws {
        for (index, path) in ["/", "/a/..", "."].enumerated() {
            let outcome = try harness.vessel(["create", "--bundle", try bundle("sleep 100", cgroupsPath: path), "root\(index)"])
            XCTAssertNotEqual(outcome.code, 0, path)
            XCTAssertEqual(outcome.stderr.split(separator: "\n").count, 1, outcome.stderr)
            XCTAssertTrue(outcome.stderr.contains("linux.cgroupsPath"), outcome.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: harness.stateRoot + "/root\(index)"))
        }
    }

    // MARK: 11. A cgroup that is already frozen

    func testCreateRefusesAFrozenCgroup() throws {
        let path = uniqueCgroupPath()
        let dir = Self.cgroupRoot + path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        try "1".write(toFile: dir + "/cgroup.freeze", atomically: false, encoding: .utf8)
        let frozenBundle = try bundle("sleep 100", cgroupsPath: path)
        for (index, form) in [["run", "-d"], ["create"]].enumerated() {
            let id = "frozen\(index)"
            let outcome = try Harness.execute(
                "/usr/bin/timeout",
                ["-s", "KILL", "20", Harness.vesselBinary, "--root", harness.stateRoot]
                    + form + ["--bundle", frozenBundle, id])
            XCTAssertNotEqual(outcome.code, 0)
            XCTAssertNotEqual(outcome.code, 128 + 9, "\(form) hung on the frozen cgroup")
            XCTAssertEqual(outcome.stderr.split(separator: "\n").count, 1, outcome.stderr)
            XCTAssertTrue(outcome.stderr.contains("frozen") && outcome.stderr.contains(dir), outcome.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: harness.stateRoot + "/" + id), "state left")
            XCTAssertTrue(Harness.isDirectory(dir), "the pre-existing cgroup was removed")
            XCTAssertEqual(try String(contentsOfFile: dir + "/cgroup.procs", encoding: .utf8), "", "a process was left in it")
            XCTAssertEqual(try String(contentsOfFile: dir + "/cgroup.freeze", encoding: .utf8), "1\n")
        }
        // Frozen through an ancestor: the same refusal.
        let nested = try bundle("sleep 100", cgroupsPath: path + "/inner")
        let outcome = try Harness.execute(
            "/usr/bin/timeout",
            [
                "-s", "KILL", "20", Harness.vesselBinary, "--root", harness.stateRoot,
                "run", "-d", "--bundle", nested, "frozen2",
            ])
        XCTAssertNotEqual(outcome.code, 0)
        XCTAssertNotEqual(outcome.code, 128 + 9, "run hung under a frozen ancestor")
        XCTAssertTrue(outcome.stderr.contains("frozen"), outcome.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: harness.stateRoot + "/frozen2"))
        XCTAssertFalse(Harness.isDirectory(dir + "/inner"))
    }
}
