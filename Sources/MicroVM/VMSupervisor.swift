import CVessel
import FoundationEssentials
import Glibc
import Linux

// `vessel vm-supervise <dir>`: the host side of one VM-mode container. It
// starts QEMU (which dies with it), relays the container's stdio between
// its own fds 0-2 and the guest's ports, asks the agent to create the
// container, reports the outcome to `create` on a pipe, then serves the
// runtime's commands on supervisor.sock until the VM ends. It exits with
// the container's status, so `run` and engines that wait on the pid (conmon)
// see the right code: this process is the container's pid on the host.
public final class VMSupervisor {
    let directory: String
    let plan: SupervisorPlan
    var reportFD: Int32
    var qemuPID: pid_t = 0
    var qemuStatus: Int32?
    var control: LineChannel!
    var stdio: StdioRelay?
    var listener: Int32 = -1
    var clients: [Int32: LineChannel] = [:]
    /// Who waits for each answer the agent owes, in order (nil: ourselves).
    var awaiting: [(client: Int32?, op: AgentMessage.Op)] = []
    var slotOwners: [Int: Int32] = [:]
    var exitCode: Int32?
    var signals: Int32 = -1

    public init(directory: String, reportFD: Int32) throws {
        self.directory = directory
        self.reportFD = reportFD
        plan = try SupervisorPlan.load(from: directory)
    }

    public func run() -> Never {
        do {
            try boot()
        } catch {
            // QEMU is gone before `create` hears of the failure.
            if qemuPID > 0 { kill(qemuPID, SIGKILL); _ = Spawner.wait(qemuPID) }
            report("error \(error)")
            exit(1)
        }
        serve()
        exit(exitCode ?? (qemuStatus.map { 128 + ($0 & 0x7f) } ?? 1))
    }

    private func report(_ line: String) {
        guard reportFD >= 0 else { return }
        StartReport.send(line, on: reportFD)
        reportFD = -1
    }

    // MARK: boot

    private func boot() throws {
        signal(SIGPIPE, SIG_IGN)
        signals = try SignalFD.block([SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2])
        let log = open(SupervisorFiles.qemuLog(in: directory), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        var request = SpawnRequest(path: try Self.resolve(plan.qemu[0]), arguments: plan.qemu, environment: ["PATH=/usr/bin:/bin"])
        request.stdio = (null, null, log)
        request.parentDeathSignal = SIGKILL
        qemuPID = try Spawner.spawn(request)
        close(log)
        close(null)
        try FileIO.write(directory + "/qemu.pid", "\(qemuPID)", flags: O_WRONLY | O_CREAT | O_TRUNC)

        let deadline = SystemClock.now() + Double(plan.bootTimeoutSeconds)
        control = LineChannel(fd: try connect(GuestPorts.control, until: deadline))
        stdio = try StdioRelay.forSlot(0, consoleSocket: plan.consoleSocket) { try connect($0, until: deadline) }

        let ready = try awaitAgent(until: deadline, what: "the guest agent did not start")
        guard ready.event == .ready else { throw VMError.guest("the guest agent sent \(ready.encoded()) before it was ready") }
        var create = AgentMessage(op: .create)
        create.spec = plan.spec
        create.shares = plan.shares
        create.network = plan.network
        control.send(create.encoded())
        let answer = try awaitAgent(until: deadline, what: "the guest agent did not create the container")
        guard answer.ok == true else { throw VMError.guest("in the guest: " + (answer.error ?? "create failed")) }
        listener = try UnixSocket.listen(SupervisorFiles.socket(in: directory))
        setStatus("created")
        report("ok \(ready.kernel ?? "")")
    }

    /// QEMU makes its sockets at start-up; connect once they exist.
    private func connect(_ port: String, until deadline: Double) throws -> Int32 {
        let path = GuestPorts.socket(port, in: directory)
        while true {
            if let fd = try? UnixSocket.connect(path) { return fd }
            try checkQemu()
            if SystemClock.now() > deadline { throw VMError.guest("QEMU did not open \(path)") }
            usleep(2000)
        }
    }

    /// The next message from the agent, bounded by the boot deadline.
    private func awaitAgent(until deadline: Double, what: String) throws -> AgentMessage {
        while true {
            try checkQemu()
            let remaining = Int32(max(0, (deadline - SystemClock.now()) * 1000))
            if remaining == 0 {
                throw VMError.guest("\(what) within \(plan.bootTimeoutSeconds) s\(consoleTail())")
            }
            // Keep relaying output meanwhile: a failing guest may say why.
            stdio?.drain()
            if let line = control.receive(timeoutMilliseconds: min(remaining, 50)) {
                if let message = AgentMessage.decode(line) { return message }
            } else if control.closed {
                // QEMU closes the port as it exits: report its exit instead.
                for _ in 0..<200 { try checkQemu(); usleep(5000) }
                throw VMError.guest("the control port closed\(consoleTail())")
            }
        }
    }

    private func checkQemu() throws {
        var status: Int32 = 0
        if waitpid(qemuPID, &status, WNOHANG) == qemuPID {
            qemuPID = 0
            let log = (try? FileIO.read(SupervisorFiles.qemuLog(in: directory)))?.split(separator: "\n").last.map(String.init)
            throw VMError.guest("QEMU exited with status \(Spawner.exitCode(fromWaitStatus: status))"
                                + (log.map { ": " + $0 } ?? "") + consoleTail())
        }
    }

    /// The guest console's last line, which says why a boot failed.
    private func consoleTail() -> String {
        let bytes = (try? FileIO.readBytes(directory + "/console.log")) ?? []
        let lines = bytes.split(separator: UInt8(ascii: "\n")).map { String(decoding: $0.filter { $0 != 13 }, as: UTF8.self) }
        guard let last = lines.last(where: { !$0.allSatisfy { $0 == " " } }) else { return "" }
        return " (guest console: \(last))"
    }

    // MARK: serving

    private func serve() {
        while qemuStatus == nil {
            let relayFDs = stdio?.pollFDs ?? []
            var fds = [pollfd(fd: signals, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: control.closed ? -1 : control.fd, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: listener, events: Int16(POLLIN), revents: 0)] + relayFDs
            let clientFDs = Array(clients.keys)
            for fd in clientFDs { fds.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0)) }
            // A terminal's size is polled: its changes raise no event here.
            if poll(&fds, nfds_t(fds.count), stdio?.isTerminal == true ? 250 : -1) < 0 { continue }
            if let resize = stdio?.resizeMessage(slot: 0), exitCode == nil { sendToAgent(resize, from: nil) }
            if fds[0].revents != 0 { handleSignals() }
            if fds[1].revents != 0 { control.fill(); handleAgent() }
            if fds[2].revents != 0 { acceptClient() }
            stdio?.handle(fds[3..<(3 + relayFDs.count)])
            for (index, fd) in clientFDs.enumerated() where fds[3 + relayFDs.count + index].revents != 0 {
                handleClient(fd)
            }
        }
        // QEMU is gone: whatever the guest wrote is in the sockets.
        while stdio?.drain() == true {}
    }

    private func handleSignals() {
        for number in SignalFD.drain(signals) {
            if number == SIGCHLD {
                var status: Int32 = 0
                if qemuPID > 0, waitpid(qemuPID, &status, WNOHANG) == qemuPID { qemuStatus = status }
            } else {
                // Signals sent to the container's host pid go to its process.
                var message = AgentMessage(op: .kill)
                message.signal = number
                sendToAgent(message, from: nil)
            }
        }
    }

    private func handleAgent() {
        while let line = control.next() {
            guard let message = AgentMessage.decode(line) else { continue }
            switch message.event {
            case .exit?:
                exitCode = message.status
                try? FileIO.writeAtomically(SupervisorFiles.exitCode(in: directory), Data("\(message.status ?? 0)".utf8))
                setStatus("stopped")
            case .execExit?:
                if let slot = message.slot, let owner = slotOwners[slot] { clients[owner]?.send(line) }
            case .ready?:
                break
            case nil:
                guard !awaiting.isEmpty else { continue }
                let (client, op) = awaiting.removeFirst()
                if message.ok == true {
                    switch op {
                    case .start, .resume: setStatus("running")
                    case .pause: setStatus("paused")
                    default: break
                    }
                }
                if let client { clients[client]?.send(line) }
            }
        }
    }

    private func acceptClient() {
        let fd = accept(listener, nil, nil)
        if fd >= 0 {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            clients[fd] = LineChannel(fd: fd)
        }
    }

    private func handleClient(_ fd: Int32) {
        guard let channel = clients[fd] else { return }
        channel.fill()
        while let line = channel.next() {
            guard let message = AgentMessage.decode(line), let op = message.op else {
                channel.send(AgentMessage.answer(ok: false, error: "vm supervisor: not a request: \(line)").encoded())
                continue
            }
            if op == .reserveSlot {
                var answer = AgentMessage.answer(ok: false, error: "vm: all \(GuestPorts.execSlots) exec slots are in use")
                if let slot = (1...GuestPorts.execSlots).first(where: { slotOwners[$0] == nil }) {
                    slotOwners[slot] = fd
                    answer = AgentMessage.answer(ok: true)
                    answer.slot = slot
                }
                channel.send(answer.encoded())
                continue
            }
            if exitCode != nil {
                channel.send(AgentMessage.answer(ok: false, error: "the container has exited").encoded())
                continue
            }
            sendToAgent(message, from: fd)
        }
        if channel.closed {
            close(fd)
            clients[fd] = nil
            for (slot, owner) in slotOwners where owner == fd { slotOwners[slot] = nil }
        }
    }

    private func sendToAgent(_ message: AgentMessage, from client: Int32?) {
        guard let op = message.op else { return }
        awaiting.append((client, op))
        control.send(message.encoded())
    }

    private func setStatus(_ status: String) {
        try? FileIO.writeAtomically(SupervisorFiles.status(in: directory), Data(status.utf8))
    }

    /// A program name found on PATH, as execve needs a path.
    public static func resolve(_ program: String) throws -> String {
        if program.contains("/") {
            guard access(program, X_OK) == 0 else { throw VMError.unusable("QEMU \(program) is not an executable file") }
            return program
        }
        let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/bin:/bin"
        for directory in (path + ":/usr/bin:/usr/local/bin").split(separator: ":") where access("\(directory)/\(program)", X_OK) == 0 {
            return "\(directory)/\(program)"
        }
        throw VMError.unusable("\(program) not found on PATH (install Debian's qemu-system-x86, or give --vm-qemu)")
    }
}
