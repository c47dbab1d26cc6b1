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
    var qemu: QemuProcess?
    var control: MessageChannel!
    var stdio: StdioRelay?
    var listener: Int32 = -1
    var clients: [ClientID: MessageChannel] = [:]
    var lastClient: ClientID = 0
    /// Who waits for each answer the agent owes, by request id.
    var router = ReplyRouter()
    var slots: ExecSlots
    var exitCode: Int32?
    var signals: Int32 = -1
    /// The engine's interfaces carried into the guest, undone at the end.
    var carried: CarriedNetwork?
    /// The pod's further containers running in this VM, by the exec slot
    /// that carries their stdio (VMSupervisor+Pod).
    var members: [Int: String] = [:]
    /// A pool VM (plan.pool) has taken its one container.
    var poolTaken = false
    /// Run before the process exits (a pool VM's directory is removed).
    public var onExit: (() -> Void)?

    public init(directory: String, reportFD: Int32) throws {
        self.directory = directory
        sockets = try SocketDirectory(directory)
        self.reportFD = reportFD
        plan = try SupervisorPlan.load(from: directory)
        slots = ExecSlots(count: plan.qemu.execSlots)
    }

    public func run() -> Never {
        do {
            try boot()
        } catch {
            // QEMU is gone before `create` hears of the failure.
            qemu?.kill()
            carried?.release()
            report(.failed(reason: "\(error)"))
            onExit?()
            exit(1)
        }
        serve()
        carried?.release()
        onExit?()
        exit(SupervisorExitStatus.code(container: exitCode, qemuWaitStatus: qemu?.waitStatus))
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
        carried =
            try plan.engineNetwork.map { try CarriedNetwork($0, directory: directory) }
            ?? plan.lateNetwork.map { try CarriedNetwork(late: $0, directory: directory) }
        let started = SystemClock.now()
        // A restore that fails for any reason leaves no trace: boot cold.
        // (create gives no template to a guest with the engine's taps.)
        let restored = plan.template.map { restore(from: $0) }
        let deadline = SystemClock.now() + Double(plan.bootTimeoutSeconds)
        let kernel = try restored?.kernel ?? bootCold(until: deadline)
        BootRecord(
            template: restored?.kernel == nil ? nil : plan.template?.key.hash, built: restored?.built ?? false,
            reason: restored?.failure, seconds: SystemClock.now() - started
        ).save(in: directory)
        let qemu = try running()
        if let pool = plan.pool {
            try warmUp(pool, until: deadline)
            restoreNormalPriority()
            listener = try sockets.listen(SupervisorFiles.socketName)
            setStatus("pool-ready")
            report(.started(detail: kernel))
            return
        }
        guard let spec = plan.spec else { throw VesselError.guest("the supervisor's plan has no container") }
        if stdio == nil {
            stdio = try StdioRelay.forSlot(0, consoleSocket: plan.consoleSocket) {
                try qemu.connect(GuestPorts.fileName($0), until: deadline)
            }
        }
        try perform(
            .create(
                GuestCreate(
                    spec: spec, shares: plan.shares, network: plan.network,
                    interfaces: carried?.guestInterfaces ?? [], placeholderMACs: carried?.guestPlaceholderMACs ?? [],
                    loopbackUp: plan.engineNetwork?.loopbackUp ?? false)),
            until: deadline, what: "the guest agent did not create the container")
        listener = try sockets.listen(SupervisorFiles.socketName)
        setStatus("created")
        report(.started(detail: kernel))
    }

    /// Boots the guest from its kernel; returns the kernel's release.
    func bootCold(until deadline: Double) throws -> String {
        let taps = try carried?.inheritableTaps() ?? []
        defer { carried?.closeInherited(taps) }
        let qemu = try QemuProcess.spawn(in: sockets) { socketDirectory, _ in
            var command = plan.qemu
            command.socketDirectory = socketDirectory
            command.taps = taps
            return command.arguments
        }
        try adopt(qemu)
        control = MessageChannel(fd: try qemu.connect(GuestPorts.fileName(GuestPorts.control), until: deadline))
        stdio = try StdioRelay.forSlot(0, consoleSocket: plan.consoleSocket) { try qemu.connect(GuestPorts.fileName($0), until: deadline) }
        let first = try qemu.awaitAgent(
            on: control, until: deadline, seconds: plan.bootTimeoutSeconds,
            what: "the guest agent did not start"
        ) { _ = stdio?.drain() }
        guard case let .event(.ready(kernel, _)) = first else {
            throw VesselError.guest("the guest agent sent \(first) before it was ready")
        }
        try refresh(until: deadline)
        return kernel
    }

    /// The QEMU this supervisor runs the container in from now on.
    func adopt(_ qemu: QemuProcess) throws {
        self.qemu = qemu
        try FileIO.write(directory + "/qemu.pid", "\(qemu.pid)", flags: O_WRONLY | O_CREAT | O_TRUNC)
    }

    func running() throws -> QemuProcess {
        guard let qemu else { throw VesselError.guest("no QEMU runs the guest") }
        return qemu
    }

    /// Reseeds the guest's RNG and sets its clock before anything runs there.
    func refresh(until deadline: Double) throws {
        try perform(.refresh(GuestRefresh.now()), until: deadline, what: "the guest agent did not take the host's entropy and time")
    }

    /// Has the agent carry out `command`; its refusal is thrown, named as
    /// the guest's (after `context`, such as "warm-up: ").
    func perform(_ command: AgentCommand, until deadline: Double, what: String, context: String = "") throws {
        if let reason = try ask(command, until: deadline, what: what).failure {
            throw VesselError.guest("in the guest: " + context + reason)
        }
    }

    /// The agent's answer to `command`, bounded by the boot's deadline.
    func ask(_ command: AgentCommand, until deadline: Double, what: String) throws -> Answer {
        try running().ask(command, on: control, until: deadline, seconds: plan.bootTimeoutSeconds, what: what) { _ = stdio?.drain() }
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

    // MARK: serving

    private func serve() {
        while qemu?.waitStatus == nil {
            let relayFDs = stdio?.pollFDs ?? []
            var fds =
                [
                    pollfd(fd: signals, events: Int16(POLLIN), revents: 0),
                    pollfd(fd: control.closed ? -1 : control.fd, events: Int16(POLLIN), revents: 0),
                    pollfd(fd: listener, events: Int16(POLLIN), revents: 0),
                ] + relayFDs
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
                qemu?.reap()
            } else if plan.pool != nil {
                qemu?.kill()  // a pool VM has no process of its own: it ends
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
            if let member = members.removeValue(forKey: slot) { memberExited(member, status: status) }
            if let owner = slots.owner(of: slot) { clients[owner]?.send(SupervisorReport.event(.execExit(slot: slot, status: status))) }
            endIfPoolServed()
        case .event(.ready):
            break
        case let .reply(reply):
            guard let pending = router.route(reply) else { return }
            if reply.answer.failure == nil {
                settle(pending.command)
            } else if let slot = Self.startedSlot(pending.command) {
                slots.exited(slot)  // never started: the agent closed the ports
                members[slot] = nil
                endIfPoolServed()
            }
            if let client = pending.client {
                clients[client]?.send(SupervisorReport.reply(Reply(id: pending.requestID, answer: reply.answer)))
            }
        }
    }

    /// The status a command the agent carried out leaves its container in.
    private func settle(_ command: SupervisorCommand) {
        switch command {
        case let .container(command): settle(command, in: directory)
        case let .member(id, command): memberDirectory(id).map { settle(command, in: $0) }
        case let .join(join): memberDirectory(join.id).map { setStatus("created", in: $0) }
        case .reserveSlot: break
        }
    }

    private func settle(_ command: ContainerCommand, in directory: String) {
        switch command {
        case .start, .resume: setStatus("running", in: directory)
        case .pause: setStatus("paused", in: directory)
        default: break
        }
    }

    /// The exec slot whose process a command starts in the guest, if any.
    private static func startedSlot(_ command: SupervisorCommand) -> Int? {
        switch command {
        case let .container(.exec(slot, _)), let .member(_, .exec(slot, _)): return slot
        case let .join(join): return join.slot
        default: return nil
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
                return .failed(reason: "vm: all \(slots.count) exec slots are in use")
            }
            return .slot(slot)
        case let .container(command):
            // Engines match runc's words ("container not running").
            if exitCode != nil { return .failed(reason: "container not running (it has exited)") }
            if let refusal = refusal(of: command, from: client) { return refusal }
            if case .start = command, let failure = carryLateNetwork() { return .failed(reason: failure) }
            forward(request.command, as: .container(command), from: client, requestID: request.id)
            return nil
        case let .join(join):
            return answerJoin(join, request: request, from: client)
        case let .member(id, command):
            guard members.values.contains(id) else { return .failed(reason: "container not running (\(id) has exited or never joined this pod's VM)") }
            if let refusal = refusal(of: command, from: client) { return refusal }
            forward(request.command, as: .member(id: id, command), from: client, requestID: request.id)
            return nil
        }
    }

    /// Why a command about an exec slot is refused: the slot is another
    /// connection's. Marks an exec's slot as started otherwise.
    func refusal(of command: ContainerCommand, from client: ClientID) -> Answer? {
        if let slot = command.slot, slots.owner(of: slot) != client {
            return .failed(reason: "vm supervisor: exec slot \(slot) is not reserved by this connection")
        }
        if case let .exec(slot, _) = command { slots.started(slot) }
        return nil
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
        forward(.container(command), as: .container(command), from: client, requestID: requestID)
    }

    /// Passes a client's request on to the agent; its answer goes back to the client.
    func forward(_ command: SupervisorCommand, as agentCommand: AgentCommand, from client: ClientID?, requestID: UInt64) {
        let id = router.register(command, from: client, requestID: requestID)
        control.send(AgentRequest(id: id, command: agentCommand))
    }

    func setStatus(_ status: String, in directory: String? = nil) {
        try? FileIO.writeAtomically(SupervisorFiles.status(in: directory ?? self.directory), Data(status.utf8))
    }
}
