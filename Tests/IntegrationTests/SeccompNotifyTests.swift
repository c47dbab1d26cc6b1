import Foundation
import XCTest

// SCMP_ACT_NOTIFY with linux.seccomp.listenerPath: vessel hands the filter's
// notification fd and the container process state to the seccomp agent, as
// runc does. The agent here is a small Python program: it receives the fd
// (SCM_RIGHTS), records the state, and answers each notified syscall with
// success without performing it.
final class SeccompNotifyTests: XCTestCase {
    var harness: Harness!

    override func setUpWithError() throws {
        harness = try Harness()
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") else { throw XCTSkip("the agent is written in python3") }
    }
    override func tearDown() { harness?.cleanUp() }

    static let agent = """
        import array, fcntl, json, os, socket, struct, sys
        path, record = sys.argv[1], sys.argv[2]
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(path)
        server.listen(1)
        print("listening", flush=True)
        conn, _ = server.accept()
        fds = array.array("i")
        data, ancillary, _, _ = conn.recvmsg(65536, socket.CMSG_LEN(fds.itemsize))
        for level, kind, payload in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(payload[:fds.itemsize])
        notify = fds[0]
        handled = []
        RECV, SEND = 0xc0502100, 0xc0182101
        while True:
            request = bytearray(80)
            try:
                fcntl.ioctl(notify, RECV, request)
            except OSError:
                break
            ident, pid, flags, nr = struct.unpack_from("=QIIi", request)
            handled.append(nr)
            fcntl.ioctl(notify, SEND, bytearray(struct.pack("=QqiI", ident, 0, 0, 0)))
            with open(record, "w") as out:
                json.dump({"state": json.loads(data.decode()), "handled": handled}, out)
        """

    func testTheAgentGetsTheFdAndTheStateAndAnswersTheSyscall() throws {
        try agentScenario("notify", reexec: false)
    }

    /// The state names the init's pid: in place it follows the go-ahead
    /// (InitCommand.agentState), re-executed it is in the hand-off.
    func testTheAgentGetsTheStateFromAReexecutedInitToo() throws {
        setenv("VESSEL_INIT_REEXEC", "1", 1)
        defer { unsetenv("VESSEL_INIT_REEXEC") }
        try agentScenario("notify-reexec", reexec: true)
    }

    func agentScenario(_ id: String, reexec: Bool) throws {
        let socketPath = harness.scratch + "/agent-\(id).sock"
        let record = harness.scratch + "/agent-\(id).json"
        let agent = try Harness.start("/usr/bin/python3", ["-c", Self.agent, socketPath, record])
        defer {
            kill(agent.pid, SIGKILL)
            _ = agent.outcome()
        }
        for _ in 0..<100 where !FileManager.default.fileExists(atPath: socketPath) { usleep(50_000) }
        let bundle = try harness.shellBundle("mkdir /dev/notified && echo mkdir-said-yes; test -d /dev/notified && echo made || echo not-made") { config in
            config.setLinux(
                "seccomp",
                [
                    "defaultAction": "SCMP_ACT_ALLOW", "listenerPath": socketPath,
                    "listenerMetadata": "from-the-test",
                    "syscalls": [["names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"]],
                ])
        }
        let outcome = try harness.vessel(["--debug", "run", "--bundle", bundle, id])
        XCTAssertEqual(outcome.code, 0, outcome.stderr)
        XCTAssertEqual(outcome.stderr.contains("cloned in place"), !reexec, outcome.stderr)
        XCTAssertEqual(outcome.stdout, "mkdir-said-yes\nnot-made\n", "the agent answered for the kernel")
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: record))) as? [String: Any])
        let state = try XCTUnwrap(json["state"] as? [String: Any])
        XCTAssertEqual(state["fds"] as? [String], ["seccompFd"])
        XCTAssertEqual(state["metadata"] as? String, "from-the-test")
        XCTAssertGreaterThan(state["pid"] as? Int ?? 0, 0)
        XCTAssertEqual((state["state"] as? [String: Any])?["id"] as? String, id)
    }

    func testNotifyWithoutAListenerIsRefused() throws {
        let bundle = try harness.shellBundle("true") { config in
            config.setLinux(
                "seccomp",
                [
                    "defaultAction": "SCMP_ACT_ALLOW",
                    "syscalls": [["names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"]],
                ])
        }
        let outcome = try harness.vessel(["create", "--bundle", bundle, "nolistener"])
        XCTAssertNotEqual(outcome.code, 0)
        XCTAssertTrue(outcome.stderr.contains("linux.seccomp.listenerPath"), outcome.stderr)
        harness.assertNoTrace("nolistener")
    }

    /// A profile that refuses everything leaves the init unable to speak
    /// or even exit: `run` fails in one line instead of hanging.
    func testAProfileThatRefusesEverythingFailsInsteadOfHanging() throws {
        let bundle = try harness.shellBundle("true") { config in
            config.setLinux("seccomp", ["defaultAction": "SCMP_ACT_ERRNO"])
        }
        let running = try Harness.start(Harness.vesselBinary, ["--root", harness.stateRoot, "run", "--bundle", bundle, "errall"])
        guard running.wait(timeoutSeconds: 30) else {
            kill(running.pid, SIGKILL)
            _ = running.outcome()
            return XCTFail("run hung")
        }
        let outcome = running.outcome()
        XCTAssertNotEqual(outcome.code, 0)
        XCTAssertEqual(outcome.stderr.split(separator: "\n").count, 1, outcome.stderr)
        harness.assertNoTrace("errall")
    }
}
