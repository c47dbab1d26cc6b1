import Foundation
import XCTest

// Behaviour runc's users rely on, checked from inside the container: each
// test states what runc 1.1 does in the same case.
final class RuncParityTests: XCTestCase {
    var harness: Harness!

    override func setUpWithError() throws { harness = try Harness() }
    override func tearDown() { harness?.cleanUp() }

    /// runc splits a rule with two conditions on one argument into one rule
    /// per condition (libseccomp refuses them together).
    func testSeccompTwoConditionsOnOneArgument() throws {
        let bundle = try harness.shellBundle(
            """
            trap '' USR1 USR2
            kill -USR1 $$ 2>/dev/null && echo usr1-sent || echo usr1-denied
            kill -USR2 $$ 2>/dev/null && echo usr2-sent || echo usr2-denied
            kill -0 $$ && echo zero-sent
            """
        ) { config in
            config.setLinux(
                "seccomp",
                [
                    "defaultAction": "SCMP_ACT_ALLOW",
                    "syscalls": [
                        [
                            "names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
                            "args": [["index": 1, "value": 10, "op": "SCMP_CMP_EQ"], ["index": 1, "value": 12, "op": "SCMP_CMP_EQ"]],
                        ]
                    ],
                ])
        }
        let outcome = try harness.run(bundle)
        XCTAssertEqual(outcome.code, 0, outcome.stderr)
        XCTAssertEqual(outcome.stdout, "usr1-denied\nusr2-denied\nzero-sent\n")
    }

    /// runc sets HOME from the container's /etc/passwd when env has none,
    /// and "/" for a uid without an entry; an explicit HOME wins.
    func testHomeFromPasswd() throws {
        let passwd = (try? String(contentsOfFile: Harness.rootfs + "/etc/passwd", encoding: .utf8)) ?? ""
        let rootHome = passwd.split(separator: "\n").first { $0.hasPrefix("root:") }?.split(separator: ":", omittingEmptySubsequences: false)
        let expectedRoot = rootHome.map { String($0[5]) } ?? "/"
        let cases: [(uid: Int, env: [String], expected: String)] = [
            (0, ["PATH=/bin"], expectedRoot), (4242, ["PATH=/bin"], "/"), (0, ["PATH=/bin", "HOME=/custom"], "/custom"),
        ]
        for item in cases {
            let bundle = try harness.shellBundle("echo $HOME") { config in
                config.setProcess("user", ["uid": item.uid, "gid": 0])
                config.setProcess("env", item.env)
            }
            let outcome = try harness.run(bundle)
            XCTAssertEqual(outcome.code, 0, outcome.stderr)
            XCTAssertEqual(outcome.stdout, item.expected + "\n", "uid \(item.uid), env \(item.env)")
        }
    }

    /// runc creates a missing process.cwd in the rootfs, even when the root
    /// is then made read-only.
    func testMissingWorkingDirectoryIsCreated() throws {
        let rootfs = harness.scratch + "/rootfs-cwd"
        XCTAssertEqual(try Harness.execute("/bin/cp", ["-a", Harness.rootfs, rootfs]).code, 0)
        let bundle = try harness.shellBundle("pwd") { config in
            config["root"] = ["path": rootfs, "readonly": true]
            config.setProcess("cwd", "/var/made/by/runtime")
        }
        let outcome = try harness.run(bundle)
        XCTAssertEqual(outcome.code, 0, outcome.stderr)
        XCTAssertEqual(outcome.stdout, "/var/made/by/runtime\n")
    }

    /// runc chdirs as root first: a cwd only root can reach works for
    /// another user (the later chdir as the user is skipped).
    func testWorkingDirectoryReachableOnlyByRoot() throws {
        let bundle = try harness.shellBundle("pwd; ls . >/dev/null 2>&1 && echo listed || echo not-listed") { config in
            config.setProcess("cwd", "/root")
            config.setProcess("user", ["uid": 1000, "gid": 1000])
        }
        let outcome = try harness.run(bundle)
        XCTAssertEqual(outcome.code, 0, outcome.stderr)
        XCTAssertTrue(outcome.stdout.hasPrefix("/root\n"), outcome.stdout)
    }

    /// `exec -p` with a process.json that has no `user` runs as uid 0, as runc's does.
    func testExecProcessWithoutUserRunsAsRoot() throws {
        let bundle = try harness.shellBundle("sleep 100") { $0.setProcess("user", ["uid": 1000, "gid": 1000]) }
        XCTAssertEqual(try harness.vessel(["run", "-d", "--bundle", bundle, "pj"]).code, 0)
        let process = harness.scratch + "/process.json"
        try Data(#"{"args": ["id", "-u"], "cwd": "/", "env": ["PATH=/bin"]}"#.utf8).write(to: URL(fileURLWithPath: process))
        let outcome = try harness.vessel(["exec", "-p", process, "pj"])
        XCTAssertEqual(outcome.code, 0, outcome.stderr)
        XCTAssertEqual(outcome.stdout, "0\n")
        let badGroup = try harness.vessel(["exec", "-u", "1000:staff", "pj", "true"])
        XCTAssertNotEqual(badGroup.code, 0, "a gid that is not a number is an error, as a bad uid is")
        XCTAssertTrue(badGroup.stderr.contains("--user"), badGroup.stderr)
    }

    /// The CLI shapes scripts parse: runc's key order and compact JSON for
    /// list and ps, ps(1) options after the id, kill 0, kill --all of a
    /// stopped container, exec's 255 and its paused-container refusal.
    func testCommandLineShapes() throws {
        let bundle = try harness.shellBundle("sleep 100")
        XCTAssertEqual(try harness.vessel(["run", "-d", "--bundle", bundle, "cli"]).code, 0)
        let list = try harness.vessel(["list", "--format", "json"])
        XCTAssertTrue(list.stdout.hasPrefix(#"[{"ociVersion":""#) && list.stdout.contains(#","id":"cli","pid":"#), list.stdout)
        XCTAssertFalse(list.stdout.contains("\n "), "compact, as runc's")
        let state = try harness.vessel(["state", "cli"])
        let keys = state.stdout.split(separator: "\n").compactMap { line in line.split(separator: "\"").dropFirst().first.map(String.init) }
        XCTAssertEqual(Array(keys.prefix(8)), ["ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "owner"])
        // As runc: `state` leaves owner empty, `list` names the owner.
        XCTAssertTrue(state.stdout.contains(#""owner": """#), state.stdout)
        XCTAssertTrue(list.stdout.contains(#""owner":"root""#), list.stdout)
        let ps = try harness.vessel(["ps", "--format", "json", "cli"])
        XCTAssertTrue(ps.stdout.hasPrefix("[") && !ps.stdout.contains(" "), ps.stdout)
        let table = try harness.vessel(["ps", "cli", "-o", "pid,comm"])
        XCTAssertEqual(table.code, 0, table.stderr)
        XCTAssertEqual(table.stdout.split(separator: "\n").first?.trimmingCharacters(in: .whitespaces), "PID COMMAND")
        XCTAssertGreaterThanOrEqual(table.stdout.split(separator: "\n").count, 2, "a row for the container's process: \(table.stdout)")
        XCTAssertEqual(try harness.vessel(["kill", "cli", "0"]).code, 0)
        XCTAssertEqual(try harness.vessel(["pause", "cli"]).code, 0)
        let paused = try harness.vessel(["exec", "cli", "true"])
        XCTAssertEqual(paused.code, 255)
        XCTAssertTrue(paused.stderr.contains("--ignore-paused"), paused.stderr)
        XCTAssertEqual(try harness.vessel(["resume", "cli"]).code, 0)
        XCTAssertEqual(try harness.vessel(["kill", "cli", "KILL"]).code, 0)
        XCTAssertEqual(try harness.waitForStatus("cli", "stopped"), "stopped")
        let again = try harness.vessel(["kill", "cli", "KILL"])
        XCTAssertTrue(again.stderr.contains("container not running"), again.stderr)
        XCTAssertEqual(try harness.vessel(["kill", "--all", "cli", "KILL"]).code, 0)
        let version = try Harness.execute(Harness.vesselBinary, ["-v"])
        XCTAssertTrue(version.stdout.hasPrefix("vessel version "), version.stdout)
    }

    /// runc makes linux.devices anywhere in the rootfs, not only under /dev.
    /// `--debug` writes runc's (logrus's) `level=debug` lines, one per step,
    /// to stderr; with `--log` they go to the log and stderr stays quiet.
    func testDebugWritesRuncStyleStepLines() throws {
        let bundle = try harness.shellBundle("true")
        let run = try harness.vessel(["--debug", "run", "--bundle", bundle, "dbg"])
        XCTAssertEqual(run.code, 0, run.stderr)
        let lines = run.stderr.split(separator: "\n").map(String.init)
        let shape = try NSRegularExpression(pattern: #"^time="[0-9-]+T[0-9:]+Z" level=debug msg=".+"$"#)
        for line in lines {
            XCTAssertNotNil(shape.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)), "not runc's shape: \(line)")
        }
        for step in ["create dbg: bundle ", "is ready and waits on the exec FIFO", "start dbg: the process runs", "delete dbg: state directory removed"] {
            XCTAssertTrue(lines.contains { $0.contains(step) }, "no step \(step.debugDescription) in\n\(run.stderr)")
        }
        XCTAssertFalse(run.stderr.contains("\\/"), "paths are written as they are, as logrus writes them")
        let log = harness.scratch + "/debug.log"
        let logged = try harness.vessel(["--debug", "--log", log, "run", "--bundle", bundle, "dbg2"])
        XCTAssertEqual(logged.code, 0, logged.stderr)
        XCTAssertEqual(logged.stderr, "")
        XCTAssertTrue(try String(contentsOfFile: log, encoding: .utf8).contains("level=debug msg=\"start dbg2: the process runs\""))
        harness.assertNoTrace("dbg")
        harness.assertNoTrace("dbg2")
    }

    func testDeviceOutsideDev() throws {
        let rootfs = harness.scratch + "/rootfs-dev"
        XCTAssertEqual(try Harness.execute("/bin/cp", ["-a", Harness.rootfs, rootfs]).code, 0)
        let bundle = try harness.shellBundle("echo through > /opt/null && echo ok") { config in
            config["root"] = ["path": rootfs, "readonly": false]
            config.setLinux("devices", [["type": "c", "path": "/opt/null", "major": 1, "minor": 3, "fileMode": 438]])
        }
        let outcome = try harness.run(bundle)
        XCTAssertEqual(outcome.code, 0, outcome.stderr)
        XCTAssertEqual(outcome.stdout, "ok\n")
    }

    /// A hostname in a uts namespace joined by path is allowed, as runc does;
    /// in the host's own uts namespace it is refused (it would rename the host).
    func testHostnameInAJoinedUTSNamespace() throws {
        let nsFile = harness.scratch + "/uts"
        _ = FileManager.default.createFile(atPath: nsFile, contents: nil)
        let made = try Harness.execute("/usr/bin/unshare", ["--uts=" + nsFile, "true"])
        XCTAssertEqual(made.code, 0, made.stderr)
        defer { _ = try? Harness.execute("/bin/umount", [nsFile]) }
        let hostName = ProcessInfo.processInfo.hostName
        func bundle(_ path: String) throws -> String {
            try harness.shellBundle("hostname") { config in
                var namespaces = ((config["linux"] as? [String: Any])?["namespaces"] as? [[String: Any]] ?? [])
                    .filter { ($0["type"] as? String) != "uts" }
                namespaces.append(["type": "uts", "path": path])
                config.setLinux("namespaces", namespaces)
                config["hostname"] = "joined-uts"
            }
        }
        let joined = try harness.run(try bundle(nsFile))
        XCTAssertEqual(joined.code, 0, joined.stderr)
        XCTAssertEqual(joined.stdout, "joined-uts\n")
        let host = try harness.run(try bundle("/proc/self/ns/uts"))
        XCTAssertNotEqual(host.code, 0)
        XCTAssertTrue(host.stderr.contains("host's uts namespace"), host.stderr)
        XCTAssertEqual(ProcessInfo.processInfo.hostName, hostName)
    }

    /// Without `env`, runc's hooks inherit the runtime's environment.
    func testHookWithoutEnvInheritsTheRuntimesEnvironment() throws {
        let output = harness.scratch + "/hook-env"
        let bundle = try harness.shellBundle("true") { config in
            config["hooks"] = ["poststart": [["path": "/bin/sh", "args": ["sh", "-c", "env > " + output]]]]
        }
        setenv("VESSEL_TEST_MARKER", "inherited", 1)
        defer { unsetenv("VESSEL_TEST_MARKER") }
        XCTAssertEqual(try harness.run(bundle).code, 0)
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        XCTAssertTrue(text.contains("VESSEL_TEST_MARKER=inherited"), text)
    }

    /// Kubernetes' Bidirectional volumes: with rootfsPropagation rshared and
    /// an rshared bind, a mount made in the container reaches the host (here:
    /// the test's mount namespace), as with runc.
    func testSharedVolumePropagatesMountsToTheHost() throws {
        let volume = harness.scratch + "/shared-volume"
        try FileManager.default.createDirectory(atPath: volume, withIntermediateDirectories: true)
        XCTAssertEqual(try Harness.execute("/bin/mount", ["-t", "tmpfs", "tmpfs", volume]).code, 0)
        defer { _ = try? Harness.execute("/bin/umount", ["-R", "-l", volume]) }
        XCTAssertEqual(try Harness.execute("/bin/mount", ["--make-shared", volume]).code, 0)
        let bundle = try harness.shellBundle("mkdir -p /mnt/v/inner && mount -t tmpfs inner /mnt/v/inner && echo mounted") { config in
            var mounts = config["mounts"] as? [[String: Any]] ?? []
            mounts.append(["destination": "/mnt/v", "type": "bind", "source": volume, "options": ["rbind", "rshared"]])
            config["mounts"] = mounts
            config.setLinux("rootfsPropagation", "rshared")
            let caps = ["CAP_SYS_ADMIN"]
            config.setProcess("capabilities", ["bounding": caps, "effective": caps, "permitted": caps])
        }
        let outcome = try harness.run(bundle)
        XCTAssertEqual(outcome.code, 0, outcome.stderr)
        XCTAssertEqual(outcome.stdout, "mounted\n")
        let mounts = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
        XCTAssertTrue(mounts.contains(volume + "/inner "), "the container's mount did not reach the host")
    }

    /// The runtime-spec: a relative bind source is relative to the bundle,
    /// whatever the caller's working directory.
    func testRelativeBindSourceIsRelativeToTheBundle() throws {
        let bundle = try harness.shellBundle("cat /mnt/data/marker") { config in
            var mounts = config["mounts"] as? [[String: Any]] ?? []
            mounts.append(["destination": "/mnt/data", "type": "bind", "source": "data", "options": ["bind", "ro"]])
            config["mounts"] = mounts
        }
        try FileManager.default.createDirectory(atPath: bundle + "/data", withIntermediateDirectories: true)
        try Data("in the bundle\n".utf8).write(to: URL(fileURLWithPath: bundle + "/data/marker"))
        let outcome = try harness.run(bundle)
        XCTAssertEqual(outcome.code, 0, outcome.stderr)
        XCTAssertEqual(outcome.stdout, "in the bundle\n")
    }
}
