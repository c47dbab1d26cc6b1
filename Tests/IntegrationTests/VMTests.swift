import Foundation
import Linux
import OSKit
import MicroVM
import XCTest

// --vm on this host: QEMU's microvm under TCG (the host's KVM is PVM, which
// cannot boot Debian's kernel), the kernel fetched by
// scripts/fetch-vm-kernel.sh. Every fact is checked from inside the guest
// or on the host's process table, not from vessel's own report.
final class VMTests: XCTestCase {
    static let kernel = "/var/lib/vessel/vm/kernel/vmlinuz"
    var harness: Harness!

    override func setUpWithError() throws {
        harness = try Harness()
        guard FileManager.default.fileExists(atPath: Self.kernel) else {
            throw XCTSkip("no guest kernel at \(Self.kernel): run scripts/fetch-vm-kernel.sh")
        }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/qemu-system-x86_64") else {
            throw XCTSkip("no QEMU: apt-get install qemu-system-x86")
        }
    }

    override func tearDown() { harness?.cleanUp() }

    func vm(_ args: [String], stdin: String? = nil) throws -> Outcome {
        try harness.vessel(["--vm"] + args, stdin: stdin)
    }

    func hostKernel() -> String {
        var names = utsname()
        uname(&names)
        return withUnsafeBytes(of: &names.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    func testRunEchoesExitsWithTheStatusAndSeesItsOwnKernel() throws {
        let bundle = try harness.shellBundle("echo out; echo err >&2; uname -r; exit 3")
        let outcome = try vm(["run", "--bundle", bundle, "vm-echo"])
        XCTAssertEqual(outcome.code, 3, outcome.stderr)
        let lines = outcome.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "out")
        XCTAssertEqual(outcome.stderr, "err\n")
        let release = try String(contentsOfFile: "/var/lib/vessel/vm/kernel/release", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual(lines.last, release)
        XCTAssertNotEqual(lines.last, hostKernel())
        harness.assertNoTrace("vm-echo")
    }

    func testStdinStreamsIntoTheGuest() throws {
        let bundle = try harness.shellBundle("tr a-z A-Z")
        let outcome = try vm(["run", "--bundle", bundle, "vm-stdin"], stdin: "hello vm\nsecond line\n")
        XCTAssertEqual(outcome.code, 0, outcome.stderr)
        XCTAssertEqual(outcome.stdout, "HELLO VM\nSECOND LINE\n")
    }

    /// create boots and prepares without running the process; start runs it;
    /// kill reaches it inside the guest; delete leaves no QEMU, socket or state.
    func testCreateStartKillDelete() throws {
        let marker = harness.scratch + "/marker"
        _ = FileManager.default.createFile(atPath: marker, contents: nil)
        let bundle = try harness.shellBundle("trap 'echo got-term; exit 7' TERM; echo started; while true; do sleep 0.1; done") { config in
            var mounts = config["mounts"] as? [[String: Any]] ?? []
            mounts.append(["destination": "/shared", "type": "bind", "source": self.harness.scratch, "options": ["rbind", "rw"]])
            config["mounts"] = mounts
        }
        let output = harness.scratch + "/out"
        _ = FileManager.default.createFile(atPath: output, contents: nil)
        let outcome = try vm(["create", "--bundle", bundle, "vm-life"])
        XCTAssertEqual(outcome.code, 0, outcome.stderr)
        let state = try XCTUnwrap(try harness.state("vm-life"))
        XCTAssertEqual(state["status"] as? String, "created")
        let pid = try XCTUnwrap(state["pid"] as? Int)
        let annotations = try XCTUnwrap(state["annotations"] as? [String: String])
        let qemu = try XCTUnwrap(annotations["org.vessel.vm.vmm-pid"].flatMap { Int32($0) })
        XCTAssertTrue(try String(contentsOfFile: "/proc/\(qemu)/cmdline", encoding: .utf8).contains("microvm"))
        XCTAssertEqual(getsid(pid_t(pid)), pid_t(pid), "the supervisor leads its own session")

        XCTAssertEqual(try harness.vessel(["start", "vm-life"]).code, 0)
        XCTAssertEqual(try harness.status("vm-life"), "running")
        XCTAssertEqual(try harness.vessel(["exec", "vm-life", "sh", "-c", "echo from-exec > /shared/exec; exit 4"]).code, 4)
        XCTAssertEqual(try String(contentsOfFile: harness.scratch + "/exec", encoding: .utf8), "from-exec\n")
        XCTAssertEqual(try harness.vessel(["pause", "vm-life"]).code, 0)
        XCTAssertEqual(try harness.status("vm-life"), "paused")
        XCTAssertEqual(try harness.vessel(["resume", "vm-life"]).code, 0)
        XCTAssertEqual(try harness.status("vm-life"), "running")
        XCTAssertFalse(try harness.vessel(["ps", "vm-life"]).stdout.isEmpty)
        let events = try harness.vessel(["events", "--stats", "vm-life"])
        XCTAssertEqual(events.code, 1)
        XCTAssertTrue(events.stderr.contains("runs in a VM"), events.stderr)
        // Limits apply to the container's cgroup in the guest.
        let update = try harness.vessel(["update", "--pids-limit", "10", "vm-life"])
        XCTAssertEqual(update.code, 0, update.stderr)
        let pidsMax = try harness.vessel(["exec", "vm-life", "sh", "-c", "cat /sys/fs/cgroup$(cut -d: -f3 /proc/self/cgroup)/pids.max"])
        XCTAssertEqual(pidsMax.stdout, "10\n", pidsMax.stderr)

        XCTAssertEqual(try harness.vessel(["kill", "vm-life", "TERM"]).code, 0)
        XCTAssertEqual(try harness.waitForStatus("vm-life", "stopped"), "stopped")
        XCTAssertEqual(try String(contentsOfFile: harness.stateRoot + "/vm-life/exit-code", encoding: .utf8), "7")
        XCTAssertEqual(try harness.vessel(["delete", "vm-life"]).code, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/proc/\(qemu)"), "QEMU left running")
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/proc/\(pid)"), "supervisor left running")
        harness.assertNoTrace("vm-life")
    }

    /// Operations in the wrong state fail with one line, as in linux mode,
    /// and signals sent to `exec` reach the exec'd process in the guest.
    func testWrongStatesAndSignalsThroughExec() throws {
        let bundle = try harness.shellBundle("trap 'exit 7' TERM; while true; do sleep 0.1; done")
        XCTAssertEqual(try vm(["run", "-d", "--bundle", bundle, "vm-states"]).code, 0)
        let again = try harness.vessel(["start", "vm-states"])
        XCTAssertEqual(again.code, 1)
        XCTAssertEqual(again.stderr, "vessel: cannot start container vm-states: it is running\n")

        let exec = try Harness.start(
            Harness.vesselBinary,
            [
                "--root", harness.stateRoot, "exec", "vm-states", "sh", "-c",
                "trap 'echo trapped; exit 9' TERM; echo waiting; while true; do sleep 0.1; done",
            ])
        var waiting = false
        for _ in 0..<100 where !waiting {
            usleep(100_000)
            waiting = ((try? String(contentsOfFile: exec.base + ".out", encoding: .utf8)) ?? "").contains("waiting")
        }
        XCTAssertTrue(waiting, "the exec'd process did not start")
        kill(exec.pid, SIGTERM)
        let execOutcome = exec.outcome()
        XCTAssertEqual(execOutcome.code, 9, execOutcome.stderr)
        XCTAssertEqual(execOutcome.stdout, "waiting\ntrapped\n")

        XCTAssertEqual(try harness.vessel(["kill", "vm-states", "TERM"]).code, 0)
        XCTAssertEqual(try harness.waitForStatus("vm-states", "stopped"), "stopped")
        for args in [["start", "vm-states"], ["kill", "vm-states"], ["exec", "vm-states", "true"], ["pause", "vm-states"]] {
            let outcome = try harness.vessel(args)
            XCTAssertEqual(outcome.code, args[0] == "exec" ? 255 : 1, "\(args)")
            let expected = args[0] == "kill" ? "container not running (it is stopped)\n" : "vm-states: it is stopped\n"
            XCTAssertTrue(outcome.stderr.hasSuffix(expected), "\(args): \(outcome.stderr)")
        }
        XCTAssertEqual(try harness.vessel(["delete", "vm-states"]).code, 0)
        harness.assertNoTrace("vm-states")
    }

    /// containerd's runc root with a 64-hex id makes socket paths over
    /// sockaddr_un's 108 bytes: create, exec, the exit and `kill --all` of
    /// the stopped container (which containerd sends before it records the
    /// exit) must all work there.
    func testUnderALongRootAStoppedContainerTakesKillAll() throws {
        let root = harness.scratch + "/run/containerd/runc/k8s.io"
        let id = String(repeating: "c0ffee", count: 11).prefix(64)
        XCTAssertGreaterThan((root + "/" + id + "/supervisor.sock").utf8.count, 108)
        func vessel(_ args: [String]) throws -> Outcome {
            try Harness.execute(Harness.vesselBinary, ["--root", root] + args)
        }
        let bundle = try harness.shellBundle("read line; echo got $line; exit 3")
        let created = try vessel(["--vm", "create", "--bundle", bundle, String(id)])
        XCTAssertEqual(created.code, 0, created.stderr)
        let exec = try vessel(["exec", String(id), "sh", "-c", "echo exec-ok"])
        XCTAssertEqual(exec.stdout, "exec-ok\n", exec.stderr)
        XCTAssertEqual(try vessel(["start", String(id)]).code, 0)
        // stdin is /dev/null here: `read` fails and the process exits 3.
        var status = ""
        for _ in 0..<300 where status != "stopped" {
            usleep(50_000)
            let state = try vessel(["state", String(id)])
            status = ((try? JSONSerialization.jsonObject(with: Data(state.stdout.utf8))) as? [String: Any])?["status"] as? String ?? ""
        }
        XCTAssertEqual(status, "stopped")
        let killAll = try vessel(["kill", "--all", String(id), "KILL"])
        XCTAssertEqual(killAll.code, 0, killAll.stderr)
        let kill = try vessel(["kill", String(id), "KILL"])
        XCTAssertEqual(kill.code, 1)
        XCTAssertTrue(kill.stderr.contains("container not running"), kill.stderr)
        XCTAssertEqual(try vessel(["delete", String(id)]).code, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/" + id))
        XCTAssertEqual(Harness.processes(mentioning: String(id)), [])
    }

    /// An engine's exec timeout SIGKILLs the exec relay: the process in the
    /// guest goes too, and its slot is not handed out until the guest has
    /// released the slot's ports. A process an exec leaves behind keeps
    /// none of them: the next exec in the slot works.
    func testKilledExecRelayAndLeftoverChildrenDoNotBlockTheNextExec() throws {
        let bundle = try harness.shellBundle("while true; do sleep 1; done")
        XCTAssertEqual(try vm(["run", "-d", "--bundle", bundle, "vm-slots"]).code, 0)
        let pidFile = harness.scratch + "/exec.pid"
        let detached = try harness.vessel(["exec", "-d", "--pid-file", pidFile, "vm-slots", "sh", "-c", "exec sleep 997"])
        XCTAssertEqual(detached.code, 0, detached.stderr)
        let relay = try XCTUnwrap(Int32(try String(contentsOfFile: pidFile, encoding: .utf8)))
        XCTAssertEqual(kill(relay, SIGKILL), 0)
        // At once, before the guest process is gone: another slot, stdin works.
        let next = try harness.vessel(["exec", "vm-slots", "cat"], stdin: "after the timeout\n")
        XCTAssertEqual(next.code, 0, next.stderr)
        XCTAssertEqual(next.stdout, "after the timeout\n")
        let orphan = try harness.vessel(["exec", "vm-slots", "sh", "-c", "sleep 998 & echo left"])
        XCTAssertEqual(orphan.stdout, "left\n", orphan.stderr)
        for round in 0..<3 {
            let again = try harness.vessel(["exec", "vm-slots", "cat"], stdin: "round \(round)\n")
            XCTAssertEqual(again.stdout, "round \(round)\n", again.stderr)
        }
        let processes = try harness.vessel(["exec", "vm-slots", "ps", "-o", "args"]).stdout
        XCTAssertFalse(processes.contains("sleep 997"), "the killed exec's process still runs: \(processes)")
        XCTAssertTrue(processes.contains("sleep 998"), processes)
        XCTAssertEqual(try harness.vessel(["delete", "--force", "vm-slots"]).code, 0)
        harness.assertNoTrace("vm-slots")
    }

    /// With no pid namespace of its own, the container sees the guest's
    /// processes: the agent and itself, none of the host's.
    func testHostProcessesAreInvisible() throws {
        let bundle = try harness.shellBundle("for p in /proc/[0-9]*; do cat $p/comm; done") { config in
            var linux = config["linux"] as? [String: Any] ?? [:]
            linux["namespaces"] = (linux["namespaces"] as? [[String: Any]] ?? []).filter { $0["type"] as? String != "pid" }
            config["linux"] = linux
        }
        let ownName = try String(contentsOfFile: "/proc/self/comm", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let hostLinux = try harness.run(bundle, id: "vm-host-pids")
        XCTAssertTrue(hostLinux.stdout.contains(ownName), "linux mode with the host's pid namespace shows this test")
        let outcome = try vm(["run", "--bundle", bundle, "vm-pids"])
        XCTAssertEqual(outcome.code, 0, outcome.stderr)
        XCTAssertFalse(outcome.stdout.contains(ownName) || outcome.stdout.contains("qemu"), outcome.stdout)
        XCTAssertTrue(outcome.stdout.contains("init"), outcome.stdout)
    }

    func testForceDeleteOfARunningVM() throws {
        let bundle = try harness.shellBundle("sleep 100")
        XCTAssertEqual(try vm(["run", "-d", "--bundle", bundle, "vm-force"]).code, 0)
        let qemu = try XCTUnwrap((try harness.state("vm-force")?["annotations"] as? [String: String])?["org.vessel.vm.vmm-pid"])
        XCTAssertEqual(try harness.vessel(["delete", "vm-force"]).code, 1, "a running container needs --force")
        XCTAssertEqual(try harness.vessel(["delete", "--force", "vm-force"]).code, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/proc/\(qemu)"))
        harness.assertNoTrace("vm-force")
    }

    /// linux.resources size the guest, and the guest's own cgroup v2 (with
    /// every controller, unlike this host's) enforces the limits.
    func testResourcesSizeTheGuestAndAreEnforcedInIt() throws {
        let bundle = try harness.shellBundle("nproc; awk '/MemTotal/ {print $2}' /proc/meminfo; cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max") { config in
            var linux = config["linux"] as? [String: Any] ?? [:]
            linux["resources"] = ["memory": ["limit": 64 << 20], "cpu": ["quota": 200_000, "period": 100_000], "pids": ["limit": 50]]
            config["linux"] = linux
        }
        let outcome = try vm(["run", "--bundle", bundle, "vm-size"])
        XCTAssertEqual(outcome.code, 0, outcome.stderr)
        let lines = outcome.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 4, outcome.stdout)
        guard lines.count == 4 else { return }
        XCTAssertEqual(Int(lines[0]), min(2, ProcessInfo.processInfo.activeProcessorCount))
        let memTotalMiB = (Int(lines[1]) ?? 0) / 1024
        XCTAssertTrue((64 + 100)...(64 + 160) ~= memTotalMiB, "guest MemTotal \(memTotalMiB) MiB")
        XCTAssertEqual(lines[2], "\(64 << 20)")
        XCTAssertEqual(lines[3], "50")
    }

    /// With org.vessel.vm.network=nat and the engine's network namespace,
    /// the container shares the guest's NIC on QEMU's user-mode NAT; a new
    /// empty network namespace has loopback only.
    func testNetworkOnRequest() throws {
        let www = harness.scratch + "/www"
        try FileManager.default.createDirectory(atPath: www, withIntermediateDirectories: true)
        try Data("served-from-host\n".utf8).write(to: URL(fileURLWithPath: www + "/hello.txt"))
        let port = 20_000 + Int(getpid() % 10_000)
        let server = try Harness.start("/usr/bin/python3", ["-m", "http.server", "--bind", "127.0.0.1", "--directory", www, "\(port)"])
        defer { kill(server.pid, SIGKILL); _ = server.outcome() }
        let script = "ls /sys/class/net; wget -q -O - http://10.0.2.2:\(port)/hello.txt"
        let networked = try harness.shellBundle(script) { config in
            config["annotations"] = ["org.vessel.vm.network": "nat"]
            var linux = config["linux"] as? [String: Any] ?? [:]
            linux["namespaces"] =
                (linux["namespaces"] as? [[String: Any]] ?? []).filter { $0["type"] as? String != "network" }
                + [["type": "network", "path": "/proc/1/ns/net"]]
            config["linux"] = linux
        }
        usleep(500_000)  // the server's start
        let outcome = try vm(["run", "--bundle", networked, "vm-net"])
        XCTAssertEqual(outcome.code, 0, outcome.stderr)
        XCTAssertEqual(outcome.stdout, "eth0\nlo\nserved-from-host\n")
        let isolated = try harness.shellBundle("ls /sys/class/net")
        XCTAssertEqual(try vm(["run", "--bundle", isolated, "vm-nonet"]).stdout, "lo\n")
    }

    /// process.terminal: the pty master reaches the console socket, and
    /// what is typed on it reaches the process in the guest.
    func testTerminalThroughConsoleSocket() throws {
        let socketPath = harness.scratch + "/console.sock"
        let pending = try HooksAndTerminalTests.ConsoleReceiver(path: socketPath).receiveInBackground()
        let bundle = try harness.shellBundle("tty; read line; echo got-$line; stty size; exit 6") { $0.setProcess("terminal", true) }
        XCTAssertEqual(try vm(["create", "--console-socket", socketPath, "--bundle", bundle, "vm-tty"]).code, 0)
        let master = pending(5)
        guard master >= 0 else { return XCTFail("no pty master received on the console socket") }
        defer { close(master) }
        XCTAssertEqual(try harness.vessel(["start", "vm-tty"]).code, 0)
        // A resize of the master we hold reaches the guest's pty.
        var size = winsize(ws_row: 33, ws_col: 99, ws_xpixel: 0, ws_ypixel: 0)
        _ = withUnsafeMutablePointer(to: &size) { ioctl(master, UInt(TIOCSWINSZ), $0) }
        usleep(600_000)
        _ = "typed\n".withCString { write(master, $0, 6) }
        let output = HooksAndTerminalTests.drain(master)
        XCTAssertTrue(output.contains("/dev/pts/0"), output)
        XCTAssertTrue(output.contains("got-typed"), output)
        XCTAssertTrue(output.contains("33 99"), output)
        XCTAssertEqual(try harness.waitForStatus("vm-tty", "stopped"), "stopped")
        XCTAssertEqual(try String(contentsOfFile: harness.stateRoot + "/vm-tty/exit-code", encoding: .utf8), "6")
        XCTAssertEqual(try harness.vessel(["delete", "vm-tty"]).code, 0)
        harness.assertNoTrace("vm-tty")
    }

    /// A VMM that dies (killed here) leaves a stopped container whose
    /// delete cleans up, as a crashed init does in linux mode.
    func testQemuDyingStopsTheContainer() throws {
        let bundle = try harness.shellBundle("sleep 100")
        XCTAssertEqual(try vm(["run", "-d", "--bundle", bundle, "vm-crash"]).code, 0)
        let state = try XCTUnwrap(try harness.state("vm-crash"))
        let qemu = try XCTUnwrap(((state["annotations"] as? [String: String])?["org.vessel.vm.vmm-pid"]).flatMap { pid_t($0) })
        XCTAssertTrue(try String(contentsOfFile: "/proc/\(qemu)/cmdline", encoding: .utf8).contains("microvm"))
        kill(qemu, SIGKILL)
        XCTAssertEqual(try harness.waitForStatus("vm-crash", "stopped"), "stopped")
        XCTAssertEqual(try harness.vessel(["delete", "vm-crash"]).code, 0)
        harness.assertNoTrace("vm-crash")
    }

    /// Requests carry ids and replies echo them: two clients that both
    /// number a request 1 each get their own answer, and a client that
    /// leaves before its answer does not pass it on to the next one (whose
    /// connection may get the same fd number in the supervisor).
    func testConcurrentSupervisorClientsGetTheirOwnAnswers() throws {
        let bundle = try harness.shellBundle("sleep 100")
        XCTAssertEqual(try vm(["run", "-d", "--bundle", bundle, "vm-ids"]).code, 0)
        let socket = SupervisorFiles.socket(in: harness.stateRoot + "/vm-ids")
        let gone = MessageChannel(fd: try UnixSocket.connect(socket))
        gone.send(SupervisorRequest(id: 1, command: .container(.pause)))
        gone.close()
        let pauser = MessageChannel(fd: try UnixSocket.connect(socket))
        let lister = MessageChannel(fd: try UnixSocket.connect(socket))
        defer { pauser.close(); lister.close() }
        XCTAssertTrue(lister.send(SupervisorRequest(id: 1, command: .container(.ps))))
        XCTAssertTrue(pauser.send(SupervisorRequest(id: 1, command: .container(.resume))))
        let listed = try lister.receive(SupervisorReport.self, timeoutMilliseconds: 30_000)
        guard case let .reply(reply)? = listed, reply.id == 1, let pids = reply.answer.pids else {
            return XCTFail("ps got \(String(describing: listed))")
        }
        XCTAssertFalse(pids.isEmpty)
        // The first client's pause went through; the resume is answered to the one who sent it.
        XCTAssertEqual(try pauser.receive(SupervisorReport.self, timeoutMilliseconds: 30_000), .reply(Reply(id: 1, answer: .done)))
        XCTAssertEqual(try harness.status("vm-ids"), "running")
    }

    /// QEMU that ends normally (it handles SIGTERM by exiting 0) without the
    /// container's status: `run` fails with 1, not "128" and not success.
    func testQemuEndingNormallyWithoutTheContainersStatusFails() throws {
        let bundle = try harness.shellBundle("sleep 100")
        let run = try Harness.start(Harness.vesselBinary, ["--root", harness.stateRoot, "--vm", "run", "--bundle", bundle, "vm-term"])
        var qemu: pid_t?
        for _ in 0..<600 where qemu == nil {
            usleep(100_000)
            if try harness.status("vm-term") == "running" {
                qemu = ((try harness.state("vm-term")?["annotations"] as? [String: String])?["org.vessel.vm.vmm-pid"]).flatMap { pid_t($0) }
            }
        }
        guard let qemu else {
            kill(run.pid, SIGKILL)
            return XCTFail("the VM did not start: \(run.outcome().stderr)")
        }
        kill(qemu, SIGTERM)
        let outcome = run.outcome()
        XCTAssertEqual(outcome.code, 1, outcome.stderr)
    }

    // MARK: faults: one line, nothing left behind

    func assertFails(_ args: [String], id: String, containing text: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let outcome = try vm(args + [id])
        XCTAssertNotEqual(outcome.code, 0, file: file, line: line)
        XCTAssertEqual(outcome.stderr.split(separator: "\n").count, 1, outcome.stderr, file: file, line: line)
        XCTAssertTrue(outcome.stderr.contains(text), outcome.stderr, file: file, line: line)
        harness.assertNoTrace(id, file: file, line: line)
        let qemus = try FileManager.default.contentsOfDirectory(atPath: "/proc").filter { Int($0) != nil }.filter {
            ((try? String(contentsOfFile: "/proc/\($0)/cmdline", encoding: .utf8)) ?? "").contains(harness.stateRoot + "/" + id)
        }
        XCTAssertEqual(qemus, [], "QEMU left running", file: file, line: line)
    }

    func testMissingKernelOrQemu() throws {
        let bundle = try harness.shellBundle("true")
        try assertFails(["--vm-kernel", "/nonexistent/vmlinuz", "create", "--bundle", bundle], id: "f1", containing: "no guest kernel at /nonexistent/vmlinuz")
        try assertFails(["--vm-qemu", "/nonexistent/qemu", "create", "--bundle", bundle], id: "f2", containing: "/nonexistent/qemu")
    }

    func testAGuestThatDoesNotBootOrAnAgentThatNeverAnswers() throws {
        let bundle = try harness.shellBundle("true")
        // A file that is not a kernel: QEMU refuses it and exits.
        let fake = harness.scratch + "/vmlinuz"
        try Data("not a kernel".utf8).write(to: URL(fileURLWithPath: fake))
        try assertFails(["--vm-kernel", fake, "create", "--bundle", bundle], id: "f4", containing: "QEMU exited")
        // A cold boot: a guest restored from a template may well answer within 1 s.
        let cold = try harness.shellBundle("true") { $0["annotations"] = ["org.vessel.vm.template": "off"] }
        try assertFails(["--vm-boot-timeout", "1", "create", "--bundle", cold], id: "f5", containing: "within 1 s")
    }

    func testConfigsTheVMCannotHonour() throws {
        let terminal = try harness.shellBundle("true") { $0.setProcess("terminal", true) }
        try assertFails(["create", "--bundle", terminal], id: "f6", containing: "process.terminal is true but no --console-socket was given")
        try assertFails(["create", "--console-socket", "/nonexistent.sock", "--bundle", terminal], id: "f6b", containing: "/nonexistent.sock")
        let broken = try harness.shellBundle("true") { $0.setProcess("cwd", "relative") }
        try assertFails(["create", "--bundle", broken], id: "f7", containing: "process.cwd")
        let missing = try harness.bundle { $0.setProcess("args", ["/no-such-program"]) }
        try assertFails(["create", "--bundle", missing], id: "f8", containing: "no-such-program")
    }

    func testTheAnnotationAndTheVesselVMNameChooseVMMode() throws {
        let bundle = try harness.shellBundle("uname -r") { config in
            config["annotations"] = ["org.vessel.isolation": "vm"]
        }
        let outcome = try harness.vessel(["run", "--bundle", bundle, "vm-annotation"])
        XCTAssertEqual(outcome.code, 0, outcome.stderr)
        XCTAssertNotEqual(outcome.stdout, hostKernel() + "\n")
        let link = harness.scratch + "/vessel-vm"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: Harness.vesselBinary)
        let plain = try harness.shellBundle("uname -r")
        let viaLink = try Harness.execute(link, ["--root", harness.stateRoot, "run", "--bundle", plain, "vm-link"])
        XCTAssertEqual(viaLink.code, 0, viaLink.stderr)
        XCTAssertEqual(viaLink.stdout, outcome.stdout)
    }
}
