import Errors
import CVessel
import FoundationEssentials
import Glibc
import OSKit

// `vessel vm-supervise <dir>`: the host side of one VM-mode container. It
// starts QEMU (which dies with it), relays the container's stdio between
// its own fds 0-2 and the guest's ports, asks the agent to create the
// container, reports the outcome to `create` on a pipe, then serves the
// runtime's commands on supervisor.sock until the VM ends. It exits with
// the container's status, so `run` and engines that wait on the pid (conmon)
// see the right code: this process is the container's pid on the host.
public final class VMSupervisor {
    let directory: String
    let sockets: SocketDirectory
    let plan: SupervisorPlan
    var reportFD: Int32
    var qemuPID: pid_t = 0
    var qemuStatus: Int32?
    var control: MessageChannel!
    var stdio: StdioRelay?
    var listener: Int32 = -1
    var clients: [ClientID: MessageChannel] = [:]
    var lastClient: ClientID = 0
    /// Who waits for each answer the agent owes, by request id.
    var router = ReplyRouter()
    var slots = ExecSlots(count: GuestPorts.execSlots)
    var exitCode: Int32?
    var signals: Int32 = -1
    /// The engine's interfaces carried into the guest, undone at the end.
    var carried: CarriedNetwork?

    public init(directory: String, reportFD: Int32) throws {
        self.directory = directory
        sockets = try SocketDirectory(directory)
        self.reportFD = reportFD
        plan = try SupervisorPlan.load(from: directory)
    }

    public func run() -> Never {
        do {
            try boot()
        } catch {
            // QEMU is gone before `create` hears of the failure.
            if qemuPID > 0 { kill(qemuPID, SIGKILL); _ = Spawner.wait(qemuPID) }
            carried?.release()
            report(.failed(reason: "\(error)"))
            exit(1)
        }
        serve()
        carried?.release()
        exit(SupervisorExitStatus.code(container: exitCode, qemuWaitStatus: qemuStatus))
    }

    private func report(_ outcome: StartReport) {
        guard reportFD >= 0 else { return }
        outcome.send(on: reportFD)
        reportFD = -1
    }

    // MARK: boot

    private func boot() throws {
        signal(SIGPIPE, SIG_IGN)
        signals = try SignalFD.block([SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2])
        carried = try plan.engineNetwork.map { try CarriedNetwork($0, directory: directory) }
            ?? plan.lateNetwork.map { try CarriedNetwork(late: $0, directory: directory) }
        qemuPID = try spawnQemu()
        try FileIO.write(directory + "/qemu.pid", "\(qemuPID)", flags: O_WRONLY | O_CREAT | O_TRUNC)

        let deadline = SystemClock.now() + Double(plan.bootTimeoutSeconds)
        control = MessageChannel(fd: try connect(GuestPorts.control, until: deadline))
        stdio = try StdioRelay.forSlot(0, consoleSocket: plan.consoleSocket) { try connect($0, until: deadline) }

        let first = try awaitAgent(until: deadline, what: "the guest agent did not start")
        guard case let .event(.ready(kernel, _)) = first else {
            throw VesselError.guest("the guest agent sent \(first) before it was ready")
        }
        // Before any client: the router numbers from 1.
        let createID: UInt64 = 0
        control.send(AgentRequest(id: createID, command: .create(GuestCreate(spec: plan.spec, shares: plan.shares, network: plan.network,
                                                                          interfaces: carried?.guestInterfaces ?? [],
                                                                          loopbackUp: plan.engineNetwork?.loopbackUp ?? false))))
        while true {
            let message = try awaitAgent(until: deadline, what: "the guest agent did not create the container")
            guard case let .reply(reply) = message, reply.id == createID else { continue }
            if let reason = reply.answer.failure { throw VesselError.guest("in the guest: " + reason) }
            break
        }
        listener = try sockets.listen(SupervisorFiles.socketName)
        setStatus("created")
        report(.started(detail: kernel))
    }

    /// QEMU, its console and log in the directory; it binds its sockets
    /// through a descriptor of the directory it inherits (SocketDirectory).
    private func spawnQemu() throws -> pid_t {
        let log = open(SupervisorFiles.qemuLog(in: directory), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        let inherited = try sockets.inheritable()
        let taps = try carried?.inheritableTaps() ?? []
        defer {
            close(inherited.fd)
            close(log)
            close(null)
            carried?.closeInherited(taps)
        }
        var command = plan.qemu
        command.socketDirectory = inherited.path
        command.taps = taps
        let arguments = command.arguments
        var request = SpawnRequest(path: try Self.resolve(arguments[0]), arguments: arguments, environment: ["PATH=/usr/bin:/bin"])
        request.stdio = (null, null, log)
        request.parentDeathSignal = SIGKILL
        return try Spawner.spawn(request)
    }

    /// QEMU makes its sockets at start-up; connect once they exist.
    private func connect(_ port: String, until deadline: Double) throws -> Int32 {
        let path = GuestPorts.socket(port, in: directory)
        while true {
            if let fd = try? sockets.connect(port: port) { return fd }
            try checkQemu()
            if SystemClock.now() > deadline { throw VesselError.guest("QEMU did not open \(path)") }
            usleep(2000)
        }
    }

    /// The next message from the agent, bounded by the boot deadline.
    private func awaitAgent(until deadline: Double, what: String) throws -> AgentReport {
        while true {
            try checkQemu()
            let remaining = Int32(max(0, (deadline - SystemClock.now()) * 1000))
            if remaining == 0 {
                throw VesselError.guest("\(what) within \(plan.bootTimeoutSeconds) s\(consoleTail())")
            }
            // Keep relaying output meanwhile: a failing guest may say why.
            stdio?.drain()
            let message: AgentReport?
            do {
                message = try control.receive(AgentReport.self, timeoutMilliseconds: min(remaining, 50))
            } catch {
                continue // not a message of this protocol: skipped
            }
            if let message { return message }
            if control.closed {
                // QEMU closes the port as it exits: report its exit instead.
                for _ in 0..<200 { try checkQemu(); usleep(5000) }
                throw VesselError.guest("the control port closed\(consoleTail())")
            }
        }
    }

    private func checkQemu() throws {
        var status: Int32 = 0
        if waitpid(qemuPID, &status, WNOHANG) == qemuPID {
            qemuPID = 0
            let log = (try? FileIO.read(SupervisorFiles.qemuLog(in: directory)))?.split(separator: "\n").last.map(String.init)
            throw VesselError.guest("QEMU exited with status \(Spawner.exitCode(fromWaitStatus: status))"
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
            let connected = Array(clients.keys)
            for client in connected { fds.append(pollfd(fd: clients[client]?.fd ?? -1, events: Int16(POLLIN), revents: 0)) }
            // A terminal's size is polled: its changes raise no event here.
            if poll(&fds, nfds_t(fds.count), stdio?.isTerminal == true ? 250 : -1) < 0 { continue }
            if let resize = stdio?.resizeCommand(slot: 0), exitCode == nil { sendToAgent(resize, from: nil, requestID: 0) }
            if fds[0].revents != 0 { handleSignals() }
            if fds[1].revents != 0 { control.fill(); handleAgent() }
            if fds[2].revents != 0 { acceptClient() }
            stdio?.handle(fds[3..<(3 + relayFDs.count)])
            for (index, client) in connected.enumerated() where fds[3 + relayFDs.count + index].revents != 0 {
                handleClient(client)
            }
        }
        // QEMU is gone: what the guest wrote is in the sockets, the
        // container's exit status perhaps among it.
        var poller = pollfd(fd: control.fd, events: Int16(POLLIN), revents: 0)
        while !control.closed && poll(&poller, 1, 0) > 0 { control.fill() }
        handleAgent()
        while stdio?.drain() == true {}
    }

    private func handleSignals() {
        for number in SignalFD.drain(signals) {
            if number == SIGCHLD {
                var status: Int32 = 0
                if qemuPID > 0, waitpid(qemuPID, &status, WNOHANG) == qemuPID { qemuStatus = status }
            } else {
                // Signals sent to the container's host pid go to its process.
                sendToAgent(.kill(signal: number, all: false), from: nil, requestID: 0)
            }
        }
    }

    private func handleAgent() {
        control.drain(AgentReport.self).forEach(dispatch)
    }

    /// One message from the agent: an event, or the answer to a request.
    func dispatch(_ message: AgentReport) {
        switch message {
        case let .event(.exit(status)):
            exitCode = status
            try? FileIO.writeAtomically(SupervisorFiles.exitCode(in: directory), Data("\(status)".utf8))
            setStatus("stopped")
        case let .event(.execExit(slot, status)):
            slots.exited(slot)
            if let owner = slots.owner(of: slot) { clients[owner]?.send(SupervisorReport.event(.execExit(slot: slot, status: status))) }
        case .event(.ready):
            break
        case let .reply(reply):
            guard let pending = router.route(reply) else { return }
            if reply.answer.failure == nil {
                settle(pending.command)
            } else if case let .exec(slot, _) = pending.command {
                slots.exited(slot) // never started: the agent closed the ports
            }
            if let client = pending.client {
                clients[client]?.send(SupervisorReport.reply(Reply(id: pending.requestID, answer: reply.answer)))
            }
        }
    }

    /// The status a command the agent carried out leaves the container in.
    private func settle(_ command: ContainerCommand) {
        switch command {
        case .start, .resume: setStatus("running")
        case .pause: setStatus("paused")
        default: break
        }
    }

    private func acceptClient() {
        let fd = accept(listener, nil, nil)
        guard fd >= 0 else { return }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        lastClient += 1
        clients[lastClient] = MessageChannel(fd: fd)
    }

    private func handleClient(_ client: ClientID) {
        guard let channel = clients[client] else { return }
        channel.fill()
        let requests = channel.drain(SupervisorRequest.self) { error in
            // Its id is unreadable too: id 0 says "your last request".
            channel.send(SupervisorReport.reply(Reply(id: 0, answer: .failed(reason: "vm supervisor: \(error)"))))
        }
        for request in requests {
            if let answer = answer(request, from: client) {
                channel.send(SupervisorReport.reply(Reply(id: request.id, answer: answer)))
            }
        }
        if channel.closed { disconnect(client) }
    }

    /// The answer to a request served here; nil for one passed to the agent.
    private func answer(_ request: SupervisorRequest, from client: ClientID) -> Answer? {
        switch request.command {
        case .reserveSlot:
            guard let slot = slots.reserve(for: client) else {
                return .failed(reason: "vm: all \(GuestPorts.execSlots) exec slots are in use")
            }
            return .slot(slot)
        case let .container(command):
            // Engines match runc's words ("container not running").
            if exitCode != nil { return .failed(reason: "container not running (it has exited)") }
            if let slot = command.slot, slots.owner(of: slot) != client {
                return .failed(reason: "vm supervisor: exec slot \(slot) is not reserved by this connection")
            }
            if case let .exec(slot, _) = command { slots.started(slot) }
            if case .start = command, let failure = carryLateNetwork() { return .failed(reason: failure) }
            sendToAgent(command, from: client, requestID: request.id)
            return nil
        }
    }

    private func disconnect(_ client: ClientID) {
        clients.removeValue(forKey: client)?.close()
        router.disconnect(client)
        // Its relay is gone (an engine's exec timeout kills it): so is the
        // process, as in linux mode, where the relay's pid is the process.
        for slot in slots.disconnect(client) where exitCode == nil {
            sendToAgent(.signalExec(slot: slot, signal: SIGKILL), from: nil, requestID: 0)
        }
    }

    private func sendToAgent(_ command: ContainerCommand, from client: ClientID?, requestID: UInt64) {
        let id = router.register(command, from: client, requestID: requestID)
        control.send(AgentRequest(id: id, command: .container(command)))
    }

    private func setStatus(_ status: String) {
        try? FileIO.writeAtomically(SupervisorFiles.status(in: directory), Data(status.utf8))
    }

    /// A program name found on PATH, as execve needs a path.
    public static func resolve(_ program: String) throws -> String {
        if program.contains("/") {
            guard access(program, X_OK) == 0 else { throw VesselError.unusable("QEMU \(program) is not an executable file") }
            return program
        }
        if let found = Command.find(program) { return found }
        throw VesselError.unusable("\(program) not found on PATH (install Debian's qemu-system-x86, or give --vm-qemu)")
    }
}
