import Foundation
import XCTest

final class ExecTests: XCTestCase {
    var harness: Harness!

    override func setUpWithError() throws { harness = try Harness() }
    override func tearDown() { harness?.cleanUp() }

    func startSleeper(_ id: String, _ modify: (inout [String: Any]) -> Void = { _ in }) throws -> Int {
        let bundle = try harness.shellBundle("sleep 100", modify)
        XCTAssertEqual(try harness.vessel(["run", "-d", "--bundle", bundle, id]).code, 0)
        return try XCTUnwrap(try harness.state(id)?["pid"] as? Int)
    }

    /// --exec-wait-fifo (runc's exec-wait-fifo test): `exec -d` returns with
    /// the pid while the program waits; it runs once the fifo's read end is
    /// opened. Anything but a fifo is refused in runc's words.
    func testExecWaitFifo() throws {
        _ = try startSleeper("e9")
        let fifo = harness.scratch + "/wait.fifo", plain = harness.scratch + "/plain"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        XCTAssertTrue(FileManager.default.createFile(atPath: plain, contents: nil))
        let pidFile = harness.scratch + "/exec.pid"
        let started = try harness.vessel(["exec", "-d", "--pid-file", pidFile, "--exec-wait-fifo", fifo, "e9", "sh", "-c", "echo ran > /dev/shm/waited"])
        XCTAssertEqual(started.code, 0, started.stderr)
        XCTAssertNotNil(Int32((try? String(contentsOfFile: pidFile, encoding: .utf8)) ?? ""))
        XCTAssertNotEqual(try harness.vessel(["exec", "e9", "test", "-e", "/dev/shm/waited"]).code, 0, "ran before the fifo was read")
        let reader = open(fifo, O_RDONLY)  // returns once the process opened the write end
        XCTAssertGreaterThanOrEqual(reader, 0)
        close(reader)
        var seen = false
        for _ in 0..<50 where !seen {
            seen = try harness.vessel(["exec", "e9", "test", "-e", "/dev/shm/waited"]).code == 0
            if !seen { usleep(100_000) }
        }
        XCTAssertTrue(seen, "did not run after the fifo was read")
        let notFifo = try harness.vessel(["exec", "--exec-wait-fifo", plain, "e9", "true"])
        XCTAssertNotEqual(notFifo.code, 0)
        XCTAssertTrue(notFifo.stderr.contains("is not a fifo"), notFifo.stderr)
        let missing = try harness.vessel(["exec", "--exec-wait-fifo", plain + ".absent", "e9", "true"])
        XCTAssertNotEqual(missing.code, 0)
        XCTAssertTrue(missing.stderr.contains("failed to open exec wait fifo"), missing.stderr)
    }

    /// The exec'd process is in the container's namespaces and cgroup, with
    /// its capabilities, as seen from inside.
    func testExecJoinsTheContainer() throws {
        let pid = try startSleeper("e1")
        let outcome = try harness.vessel([
            "exec", "e1", "sh", "-c",
            "hostname; readlink /proc/self/ns/pid; readlink /proc/self/ns/mnt; grep CapEff /proc/self/status; cat /proc/self/cgroup | grep ^0::; ps -o comm",
        ])
        XCTAssertEqual(outcome.code, 0, outcome.stderr)
        let lines = outcome.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "vessel")
        XCTAssertEqual(lines[1], try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/pid"))
        XCTAssertEqual(lines[2], try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/mnt"))
        XCTAssertEqual(lines[3], "CapEff:\t0000000020000420")
        XCTAssertEqual(lines[4], "0::/")
        XCTAssertTrue(lines.contains("sleep"), "\(lines)")
    }

    func testExitStatusEnvCwdAndUser() throws {
        _ = try startSleeper("e2")
        XCTAssertEqual(try harness.vessel(["exec", "e2", "sh", "-c", "exit 5"]).code, 5)
        let outcome = try harness.vessel([
            "exec", "--env", "GREETING=hi", "--cwd", "/etc", "--user", "1000:1001", "e2",
            "sh", "-c", "echo $GREETING; pwd; id -u; id -g",
        ])
        XCTAssertEqual(outcome.code, 0, outcome.stderr)
        XCTAssertEqual(outcome.stdout, "hi\n/etc\n1000\n1001\n")
    }

    func testProcessFile() throws {
        _ = try startSleeper("e3")
        let file = harness.scratch + "/process.json"
        let process: [String: Any] = [
            "args": ["sh", "-c", "echo from-file; ulimit -n"], "cwd": "/",
            "user": ["uid": 0, "gid": 0], "env": ["PATH=/bin"],
            "rlimits": [["type": "RLIMIT_NOFILE", "soft": 77, "hard": 77]],
        ]
        try JSONSerialization.data(withJSONObject: process).write(to: URL(fileURLWithPath: file))
        let outcome = try harness.vessel(["exec", "--process", file, "e3"])
        XCTAssertEqual(outcome.code, 0, outcome.stderr)
        XCTAssertEqual(outcome.stdout, "from-file\n77\n")
    }

    func testSeccompAppliesToExec() throws {
        _ = try startSleeper("e4") {
            $0.setLinux(
                "seccomp",
                [
                    "defaultAction": "SCMP_ACT_ALLOW",
                    "syscalls": [["names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38]],
                ])
            var mounts = $0["mounts"] as? [[String: Any]] ?? []
            mounts.append(["destination": "/tmp", "type": "tmpfs", "source": "tmpfs"])
            $0["mounts"] = mounts
        }
        let outcome = try harness.vessel(["exec", "e4", "mkdir", "/tmp/x"])
        XCTAssertNotEqual(outcome.code, 0)
        XCTAssertTrue(outcome.stderr.contains("Function not implemented"), outcome.stderr)
    }

    func testBadExecInputs() throws {
        _ = try startSleeper("e5")
        let missing = try harness.vessel(["exec", "e5", "no-such-program"])
        XCTAssertNotEqual(missing.code, 0)
        XCTAssertTrue(missing.stderr.contains("not found in $PATH"), missing.stderr)
        // The program came from the command line, not from config.json.
        XCTAssertTrue(missing.stderr.contains("exec: process.args[0]"), missing.stderr)
        XCTAssertFalse(missing.stderr.contains("config.json"), missing.stderr)
        XCTAssertEqual(missing.stderr.split(separator: "\n").count, 1, missing.stderr)
        let ghost = try harness.vessel(["exec", "ghost", "true"])
        XCTAssertTrue(ghost.stderr.contains("does not exist"), ghost.stderr)
        let tty = try harness.vessel(["exec", "-t", "-d", "e5", "true"])
        XCTAssertTrue(tty.stderr.contains("console-socket"), tty.stderr)
        XCTAssertEqual(tty.code, 255, "exec failures exit 255, as runc's")
        XCTAssertEqual(try harness.vessel(["kill", "e5", "KILL"]).code, 0)
        XCTAssertEqual(try harness.waitForStatus("e5", "stopped"), "stopped")
        let stopped = try harness.vessel(["exec", "e5", "true"])
        XCTAssertTrue(stopped.stderr.contains("stopped"), stopped.stderr)
    }

    /// A process `exec` kills itself (here: its cgroup refuses it) is
    /// reported with the reason, not with the status 137 of our SIGKILL.
    func testAnExecThatCannotJoinTheCgroupSaysWhy() throws {
        // A cgroup right under the root, where hugetlb is enabled for children.
        let path = "/vessel-exec-test-" + UUID().uuidString.prefix(8)
        let pid = try startSleeper("e6") { $0.setLinux("cgroupsPath", path) }
        let cgroup = "/sys/fs/cgroup" + path
        // No internal processes: once the container's cgroup enables a
        // controller for children, it takes no new process.
        let parked = cgroup + "/parked"
        try FileManager.default.createDirectory(atPath: parked, withIntermediateDirectories: false)
        try "\(pid)".write(toFile: parked + "/cgroup.procs", atomically: false, encoding: .utf8)
        try "+hugetlb".write(toFile: cgroup + "/cgroup.subtree_control", atomically: false, encoding: .utf8)
        defer {
            try? "-hugetlb".write(toFile: cgroup + "/cgroup.subtree_control", atomically: false, encoding: .utf8)
            try? "\(pid)".write(toFile: cgroup + "/cgroup.procs", atomically: false, encoding: .utf8)
            rmdir(parked)
        }
        // Without --cgroup, exec would fall back to the init's cgroup (as runc): "/" asks for the container's own.
        let fallback = try harness.vessel(["exec", "e6", "sh", "-c", "cat /proc/self/cgroup"])
        XCTAssertEqual(fallback.code, 0, fallback.stderr)
        XCTAssertTrue(fallback.stdout.contains("/parked\n"), fallback.stdout)
        let outcome = try harness.vessel(["exec", "--cgroup", "/", "e6", "true"])
        XCTAssertEqual(outcome.code, 255)
        XCTAssertEqual(outcome.stderr.split(separator: "\n").count, 1, outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("cgroup.procs") && outcome.stderr.contains("Device or resource busy"), outcome.stderr)
        // The line names the pid it could not move, which may hold "137" itself.
        let withoutPID = outcome.stderr.replacingOccurrences(of: #"pid [0-9]+"#, with: "pid N", options: .regularExpression)
        XCTAssertFalse(withoutPID.contains("137"), outcome.stderr)
    }

    /// exec starts from what create decided, kept in the container's state:
    /// a bundle edited or removed afterwards changes nothing, its seccomp
    /// profile included.
    func testExecDoesNotReadTheBundleAgain() throws {
        let bundle = try harness.shellBundle("sleep 100") { config in
            config.setProcess("env", ["PATH=/bin", "FROM_CREATE=yes"])
            config.setLinux(
                "seccomp",
                [
                    "defaultAction": "SCMP_ACT_ALLOW",
                    "syscalls": [["names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1]],
                ])
        }
        XCTAssertEqual(try harness.vessel(["run", "-d", "--bundle", bundle, "kept"]).code, 0)
        try FileManager.default.removeItem(atPath: bundle + "/config.json")
        let outcome = try harness.vessel(["exec", "kept", "sh", "-c", "echo $FROM_CREATE; mkdir /tmp/x 2>/dev/null || echo still-filtered"])
        XCTAssertEqual(outcome.code, 0, outcome.stderr)
        XCTAssertEqual(outcome.stdout, "yes\nstill-filtered\n")
    }
}
