import Foundation
import Synchronization
import XCTest

final class HooksAndTerminalTests: XCTestCase {
    var harness: Harness!

    override func setUpWithError() throws { harness = try Harness() }
    override func tearDown() { harness?.cleanUp() }

    /// A host hook script appending "<name> <status> <id-seen>" to `log`.
    func loggingHook(log: String, id: String) throws -> String {
        let path = harness.scratch + "/log-hook.sh"
        let script = """
            #!/bin/sh
            state=$(cat)
            status=$(printf '%s' "$state" | sed -n 's/.*"status" *: *"\\([a-z]*\\)".*/\\1/p')
            case "$state" in *'"\(id)"'*) seen=id ;; *) seen=noid ;; esac
            echo "$1 $status $seen" >> \(log)

            """
        try Data(script.utf8).write(to: URL(fileURLWithPath: path))
        chmod(path, 0o755)
        return path
    }

    func script(_ name: String, _ body: String) throws -> String {
        let path = harness.scratch + "/" + name
        try Data(("#!/bin/sh\n" + body + "\n").utf8).write(to: URL(fileURLWithPath: path))
        chmod(path, 0o755)
        return path
    }

    func testHooksRunInOrderWithState() throws {
        let id = "hooks1"
        let logDir = harness.scratch + "/hooklog"
        try FileManager.default.createDirectory(atPath: logDir, withIntermediateDirectories: true)
        let log = logDir + "/log"
        let hook = try loggingHook(log: log, id: id)
        let env = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]
        func host(_ name: String) -> [String: Any] { ["path": hook, "args": [hook, name], "env": env] }
        // startContainer runs in the container: busybox's sh, and the log
        // directory bound at /run (an existing directory of the shared rootfs).
        let inside: [String: Any] = [
            "path": "/bin/sh",
            "args": ["sh", "-c", "s=$(cat); case \"$s\" in *'\"\(id)\"'*) seen=id ;; *) seen=noid ;; esac; echo \"startContainer - $seen\" >> /run/log"],
            "env": env,
        ]
        let bundle = try harness.shellBundle("true") { config in
            var mounts = config["mounts"] as? [[String: Any]] ?? []
            mounts.append(["destination": "/run", "type": "bind", "source": logDir, "options": ["rbind", "rw"]])
            config["mounts"] = mounts
            config["hooks"] = [
                "prestart": [host("prestart")],
                "createRuntime": [host("createRuntime")],
                "createContainer": [host("createContainer")],
                "startContainer": [inside],
                "poststart": [host("poststart")],
                "poststop": [host("poststop")],
            ]
        }
        let created = try harness.vessel(["create", "--bundle", bundle, id])
        XCTAssertEqual(created.code, 0, created.stderr)
        let started = try harness.vessel(["start", id])
        XCTAssertEqual(started.code, 0, started.stderr)
        XCTAssertEqual(try harness.waitForStatus(id, "stopped"), "stopped")
        let deleted = try harness.vessel(["delete", id])
        XCTAssertEqual(deleted.code, 0, deleted.stderr)
        let lines = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        XCTAssertEqual(
            lines.map { $0.split(separator: " ").first.map(String.init) ?? "" },
            ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"],
            lines.joined(separator: "\n"))
        XCTAssertTrue(lines.allSatisfy { $0.hasSuffix(" id") }, "a hook did not get the id: \(lines)")
        // The status each hook saw (the startContainer hook does not parse it).
        let statuses = lines.map { $0.split(separator: " ").dropFirst().first.map(String.init) ?? "" }
        XCTAssertEqual(statuses, ["creating", "creating", "creating", "-", "running", "stopped"], lines.joined(separator: "\n"))
        harness.assertNoTrace(id)
    }

    func testFailingCreateRuntimeHookFailsCreate() throws {
        let id = "hookfail"
        let failing = try script("fail.sh", "cat > /dev/null; exit 1")
        let bundle = try harness.shellBundle("true") { config in
            config["hooks"] = ["createRuntime": [["path": failing]]]
        }
        let created = try harness.vessel(["create", "--bundle", bundle, id])
        XCTAssertNotEqual(created.code, 0)
        XCTAssertTrue(created.stderr.contains("createRuntime") && created.stderr.contains(failing), created.stderr)
        // runc's words, which its own tests match on.
        XCTAssertTrue(created.stderr.contains("error running createRuntime hook #0: "), created.stderr)
        harness.assertNoTrace(id)
    }

    /// A failing startContainer hook (it runs in the container, after
    /// `start`) fails `run` and `start` with its reason as the one line:
    /// the init hands it to `start` on the exec FIFO.
    func testAFailingStartContainerHookFailsStartWithOneLine() throws {
        let bundle = try harness.shellBundle("echo never-runs") { config in
            config["hooks"] = ["startContainer": [["path": "/bin/false"]]]
        }
        let ran = try harness.vessel(["run", "--bundle", bundle, "starthook-1"])
        XCTAssertEqual(ran.code, 1)
        XCTAssertEqual(ran.stdout, "")
        XCTAssertEqual(ran.stderr.split(separator: "\n").count, 1, ran.stderr)
        XCTAssertTrue(ran.stderr.contains("error running startContainer hook #0: "), ran.stderr)
        harness.assertNoTrace("starthook-1")

        XCTAssertEqual(try harness.vessel(["create", "--bundle", bundle, "starthook-2"]).code, 0)
        let started = try harness.vessel(["start", "starthook-2"])
        XCTAssertEqual(started.code, 1)
        XCTAssertEqual(started.stderr.split(separator: "\n").count, 1, started.stderr)
        XCTAssertTrue(started.stderr.contains("hooks.startContainer[0] (/bin/false) exited with status 1"), started.stderr)
        XCTAssertEqual(try harness.waitForStatus("starthook-2", "stopped"), "stopped")
        XCTAssertEqual(try harness.vessel(["delete", "starthook-2"]).code, 0)
        harness.assertNoTrace("starthook-2")
    }

    /// As runc: a hook's output is kept, not passed through, and a failing
    /// hook's stdout and stderr are in the one error line.
    func testFailingHookOutputIsInTheOneErrorLine() throws {
        let id = "hooksays"
        let failing = try script("says.sh", "cat > /dev/null; echo to-stdout; printf 'first\\nsecond\\n' >&2; exit 4")
        let bundle = try harness.shellBundle("true") { config in
            config["hooks"] = ["prestart": [["path": failing]]]
        }
        let created = try harness.vessel(["create", "--bundle", bundle, id])
        XCTAssertEqual(created.code, 1)
        XCTAssertEqual(created.stdout, "")
        let lines = created.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, created.stderr)
        XCTAssertTrue(created.stderr.contains(#"status 4, stdout: "to-stdout\n", stderr: "first\nsecond\n""#), created.stderr)
        harness.assertNoTrace(id)
    }

    /// Hooks run in the bundle directory, as runc's; a hook that leaves a
    /// process holding its stdout open does not hold up create.
    func testHooksRunInTheBundleAndDoNotWaitForWhatTheyLeaveBehind() throws {
        let id = "hookcwd"
        let seen = harness.scratch + "/hook-cwd"
        let hook = try script("cwd.sh", "cat > /dev/null; pwd > \(seen); sleep 5 &")
        let bundle = try harness.shellBundle("true") { config in
            config["hooks"] = ["prestart": [["path": hook]]]
        }
        let begin = Date()
        let created = try harness.vessel(["create", "--bundle", bundle, id])
        XCTAssertEqual(created.code, 0, created.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(begin), 4, "create waited for the hook's background process")
        XCTAssertEqual(try String(contentsOfFile: seen, encoding: .utf8), URL(fileURLWithPath: bundle).resolvingSymlinksInPath().path + "\n")
        XCTAssertEqual(try harness.vessel(["delete", "--force", id]).code, 0)
        harness.assertNoTrace(id)
    }

    func testHookTimeoutFailsCreate() throws {
        let id = "hookslow"
        let slow = try script("slow.sh", "sleep 5")
        let bundle = try harness.shellBundle("true") { config in
            config["hooks"] = ["createRuntime": [["path": slow, "timeout": 1]]]
        }
        let begin = Date()
        let created = try harness.vessel(["create", "--bundle", bundle, id])
        XCTAssertNotEqual(created.code, 0)
        XCTAssertTrue(created.stderr.contains("timed out"), created.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(begin), 4.5, "create waited for the hook past its timeout")
        harness.assertNoTrace(id)
    }

    // MARK: terminal

    /// Listens on a unix socket; `receive()` accepts one connection and
    /// returns the fd passed with SCM_RIGHTS.
    final class ConsoleReceiver: Sendable {
        let path: String
        let listener: Int32

        /// Receives on a thread; the returned function waits up to the
        /// given seconds for the fd (-1 if none came).
        func receiveInBackground() -> (Double) -> Int32 {
            final class Box: Sendable { let fd = Atomic<Int32>(-1) }
            let box = Box()
            let received = DispatchSemaphore(value: 0)
            Thread {
                box.fd.store(self.receive(), ordering: .sequentiallyConsistent)
                received.signal()
            }.start()
            return { seconds in received.wait(timeout: .now() + seconds) == .success ? box.fd.load(ordering: .sequentiallyConsistent) : -1 }
        }

        init(path: String) throws {
            self.path = path
            listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            guard listener >= 0 else { throw XCTSkip("socket: \(errno)") }
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            XCTAssertLessThan(bytes.count, MemoryLayout.size(ofValue: address.sun_path))
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                for (index, byte) in bytes.enumerated() { raw[index] = byte }
            }
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            guard bound == 0, listen(listener, 1) == 0 else { throw XCTSkip("bind/listen \(path): \(errno)") }
        }

        deinit { close(listener) }

        /// Waits up to `timeout` ms for a connection; -1 where none came or no fd was passed.
        func receive(timeout: Int32 = 10_000) -> Int32 {
            var poller = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, timeout) == 1 else { return -1 }
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { return -1 }
            defer { close(connection) }
            var data = [UInt8](repeating: 0, count: 4096)
            var control = [UInt8](repeating: 0, count: 24)  // CMSG_SPACE(sizeof(int))
            let received: Int = data.withUnsafeMutableBytes { dataBytes in
                control.withUnsafeMutableBytes { controlBytes in
                    var iov = iovec(iov_base: dataBytes.baseAddress, iov_len: dataBytes.count)
                    return withUnsafeMutablePointer(to: &iov) { iovPointer in
                        var message = msghdr()
                        message.msg_iov = iovPointer
                        message.msg_iovlen = 1
                        message.msg_control = controlBytes.baseAddress
                        message.msg_controllen = controlBytes.count
                        return recvmsg(connection, &message, 0)
                    }
                }
            }
            guard received >= 0 else { return -1 }
            // struct cmsghdr { size_t len; int level; int type; } then the int.
            let level = control.withUnsafeBytes { $0.load(fromByteOffset: 8, as: Int32.self) }
            let type = control.withUnsafeBytes { $0.load(fromByteOffset: 12, as: Int32.self) }
            guard level == SOL_SOCKET, type == Int32(SCM_RIGHTS) else { return -1 }
            return control.withUnsafeBytes { $0.load(fromByteOffset: 16, as: Int32.self) }
        }
    }

    /// Reads `fd` until EOF/EIO or `deadline` seconds pass.
    static func drain(_ fd: Int32, deadline seconds: Double = 10) -> String {
        var collected = [UInt8]()
        let end = Date().addingTimeInterval(seconds)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while Date() < end {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, 200)
            if ready < 0 && errno != EINTR { break }
            if ready <= 0 { continue }
            let count = read(fd, &buffer, buffer.count)
            if count <= 0 { break }
            collected += buffer[0..<count]
        }
        return String(decoding: collected, as: UTF8.self)
    }

    func testTerminalThroughConsoleSocket() throws {
        let id = "tty1"
        let socketPath = harness.scratch + "/console.sock"
        let pending = try ConsoleReceiver(path: socketPath).receiveInBackground()
        let bundle = try harness.shellBundle("tty; echo done; sleep 1") { $0.setProcess("terminal", true) }
        let run = try harness.vessel(["run", "-d", "--console-socket", socketPath, "--bundle", bundle, id])
        XCTAssertEqual(run.code, 0, run.stderr)
        let master = pending(15)
        XCTAssertGreaterThanOrEqual(master, 0, "no pty master received on the console socket")
        guard master >= 0 else { return }
        defer { close(master) }
        let output = Self.drain(master)
        XCTAssertTrue(output.contains("/dev/pts/0"), output)
        XCTAssertTrue(output.contains("done"), output)
        XCTAssertEqual(try harness.waitForStatus(id, "stopped"), "stopped")
        XCTAssertEqual(try harness.vessel(["delete", id]).code, 0)
        harness.assertNoTrace(id)
    }

    func testTerminalWithoutConsoleSocketIsRefused() throws {
        let bundle = try harness.shellBundle("true") { $0.setProcess("terminal", true) }
        let outcome = try harness.vessel(["create", "--bundle", bundle, "tty2"])
        XCTAssertNotEqual(outcome.code, 0)
        XCTAssertTrue(outcome.stderr.contains("console-socket"), outcome.stderr)
        harness.assertNoTrace("tty2")
    }

    /// The hook runner ignores SIGPIPE while it writes the state; the
    /// container's process (the init execs it) must not inherit that.
    func testContainerProcessDoesNotInheritAnIgnoredSIGPIPE() throws {
        let bundle = try harness.shellBundle("grep SigIgn /proc/self/status") { config in
            config["hooks"] = ["createContainer": [["path": "/bin/true"]], "startContainer": [["path": "/bin/true"]]]
        }
        let outcome = try harness.run(bundle)
        XCTAssertEqual(outcome.code, 0, outcome.stderr)
        let mask = UInt64(outcome.stdout.split(separator: "\t").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "", radix: 16)
        XCTAssertEqual((mask ?? 1) & (1 << 12), 0, "SIGPIPE is ignored in the container: \(outcome.stdout)")
    }
}
