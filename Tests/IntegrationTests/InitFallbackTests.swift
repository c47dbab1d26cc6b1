import Foundation
import XCTest

// The process that enters a container starts in place (a clone of the CLI
// going on with what it decoded) where it can, and re-executes vessel as
// `vessel init` otherwise (docs/decisions.md, "One Swift start per create
// and exec"). VESSEL_INIT_REEXEC=1 forces the fallback: the lifecycle must
// work the same either way.
final class InitFallbackTests: XCTestCase {
    var harness: Harness!

    override func setUpWithError() throws { harness = try Harness() }
    override func tearDown() {
        unsetenv("VESSEL_INIT_REEXEC")
        harness?.cleanUp()
    }

    /// create, exec in the created container, start, exec, kill, delete.
    func lifecycle(_ id: String) throws -> [String] {
        let bundle = try harness.shellBundle("echo started; sleep 100")
        let create = try harness.vessel(["--debug", "create", "--bundle", bundle, id])
        XCTAssertEqual(create.code, 0, create.stderr)
        let pid = try XCTUnwrap(try harness.state(id)?["pid"] as? Int)
        let cmdline = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? ""
        XCTAssertTrue(cmdline.hasPrefix("vessel\u{0}init\u{0}"), "ps shows `vessel init` either way: \(cmdline.debugDescription)")
        let early = try harness.vessel(["--debug", "exec", id, "sh", "-c", "echo early; exit 3"])
        XCTAssertEqual(early.code, 3, early.stderr)
        XCTAssertEqual(early.stdout, "early\n")
        XCTAssertEqual(try harness.vessel(["start", id]).code, 0)
        let late = try harness.vessel(["exec", id, "cat", "/proc/1/cmdline"])
        XCTAssertEqual(late.stdout, "sleep\u{0}100\u{0}", "the user's program is the init now (sh execs its last command)")
        XCTAssertEqual(try harness.vessel(["delete", "--force", id]).code, 0)
        harness.assertNoTrace(id)
        return [create.stderr, early.stderr]
    }

    func testTheDefaultStartsInPlace() throws {
        for line in try lifecycle("inplace") {
            XCTAssertTrue(line.contains("cloned in place"), line)
        }
    }

    func testTheForcedFallbackReexecutes() throws {
        setenv("VESSEL_INIT_REEXEC", "1", 1)
        for line in try lifecycle("reexec") {
            XCTAssertTrue(line.contains("re-executing vessel: VESSEL_INIT_REEXEC is set"), line)
            XCTAssertFalse(line.contains("cloned in place"), line)
        }
        let outcome = try harness.run(try harness.shellBundle("echo hi; exit 7"))
        XCTAssertEqual(outcome.code, 7, outcome.stderr)
        XCTAssertEqual(outcome.stdout, "hi\n")
    }

    /// A container whose processes may hold CAP_SYS_PTRACE over the host
    /// could open a non-dumpable init's /proc/<pid>/exe: it re-executes.
    func testSysPtraceFallsBackToReexec() throws {
        let bundle = try harness.shellBundle("true") { config in
            var process = config["process"] as? [String: Any] ?? [:]
            var caps = process["capabilities"] as? [String: Any] ?? [:]
            for set in ["bounding", "effective", "permitted"] {
                caps[set] = (caps[set] as? [String] ?? []) + ["CAP_SYS_PTRACE"]
            }
            process["capabilities"] = caps
            config["process"] = process
        }
        let outcome = try harness.vessel(["--debug", "run", "--bundle", bundle, "ptrace"])
        XCTAssertEqual(outcome.code, 0, outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("re-executing vessel: a process of the container may hold CAP_SYS_PTRACE"), outcome.stderr)
    }

    /// An init that its own seccomp profile silences (every system call
    /// refused, exit too) dies at once either way, by default handlers: the
    /// in-place child's are reset by the shim, the re-executed one's (Swift's
    /// crash backtracer, which would spin until InitPeer's 10 s deadline)
    /// by SeccompFilter before the load.
    func testAnInitSilencedByItsProfileFailsAtOnceEitherWay() throws {
        let bundle = try harness.shellBundle("echo before") { config in
            config.setLinux(
                "seccomp",
                [
                    "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
                    "syscalls": [["names": ["setpriority"], "action": "SCMP_ACT_ALLOW"]],
                ])
        }
        for (id, forced) in [("silenced", false), ("silenced-reexec", true)] {
            if forced { setenv("VESSEL_INIT_REEXEC", "1", 1) }
            let started = Date()
            let outcome = try harness.vessel(["run", "--bundle", bundle, id])
            XCTAssertEqual(outcome.code, 1, id)
            // Its channel closes as it dies: "exited during set-up with
            // status 139", or, seen a moment before the death, "closed its channel".
            XCTAssertTrue(outcome.stderr.hasPrefix("vessel: container init "), outcome.stderr)
            XCTAssertEqual(outcome.stderr.split(separator: "\n").count, 1, outcome.stderr)
            XCTAssertLessThan(Date().timeIntervalSince(started), 5, "\(id): well before InitPeer's deadline")
            harness.assertNoTrace(id)
        }
    }

    /// A program that passes the lookup but fails at execve (not ELF, no
    /// #!) ends the same either way, as runc's init ends: `exec <path>:
    /// <reason>` on the container's stderr, status 1 (in place, the sealed
    /// trampoline writes it).
    func testAProgramThatFailsAtExecveEndsTheSameEitherWay() throws {
        let garbage = harness.scratch + "/garbage"
        XCTAssertTrue(FileManager.default.createFile(atPath: garbage, contents: Data([0, 0, 0, 0]), attributes: [.posixPermissions: 0o755]))
        let bundle = try harness.bundle { config in
            var process = config["process"] as? [String: Any] ?? [:]
            process["args"] = ["/garbage"]
            config["process"] = process
            var mounts = config["mounts"] as? [[String: Any]] ?? []
            mounts.append(["destination": "/garbage", "type": "bind", "source": garbage, "options": ["bind", "ro"]])
            config["mounts"] = mounts
        }
        for (id, forced) in [("noexec", false), ("noexec-reexec", true)] {
            if forced { setenv("VESSEL_INIT_REEXEC", "1", 1) }
            let outcome = try harness.vessel(["run", "--bundle", bundle, id])
            XCTAssertEqual(outcome.code, 1, id)
            XCTAssertEqual(outcome.stderr, "exec /garbage: exec format error\n", id)
            harness.assertNoTrace(id)
        }
    }
}
