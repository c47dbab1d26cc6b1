import Errors
import CVessel
import FoundationEssentials
import Glibc
import Linux
import OSKit
import MicroVM
import OCI
import Runtime

// PID 1 of the microVM (the initramfs's /init is vessel itself). It sets the
// guest up, tells the host it is ready on the control port, and runs the
// bundle with the linux backend, so the container has its namespaces,
// capabilities, seccomp and cgroup inside the VM too. When the container's
// process exits it reports the status and powers the VM off.
public final class GuestAgent {
    static let containerID = "container"
    static let bundle = "/run/bundle"
    let store = StateStore(root: "/run/vessel")
    var control: MessageChannel!
    var ports: [String: String] = [:]
    var containerPID: pid_t = 0
    var execSlots: [pid_t: Int] = [:]
    /// The pod's further containers (PodJoin), by their init's pid.
    var members: [pid_t: ContainerID] = [:]
    /// Relayed slots: every exec slot, and slot 0 with a terminal.
    var relays: [Int: SlotStreams] = [:]
    var console: Int32 = 2
    /// Whether the host reseeded the RNG and set the clock (GuestRefresh):
    /// nothing of the container's runs before.
    var refreshed = false

    public init() {}

    public func run() -> Never {
        do {
            try GuestSystem.mountBasics()
            console = open("/dev/ttyS0", O_WRONLY | O_NOCTTY | O_CLOEXEC)
            let null = open("/dev/null", O_RDWR)
            dup2(null, 0); dup2(console, 1); dup2(console, 2)
            try GuestSystem.loadModules()
            let slots = GuestPorts.execSlots(kernelCommandLine: (try? FileIO.read("/proc/cmdline")) ?? "")
            ports = try GuestSystem.ports(expecting: GuestPorts.all(execSlots: slots))
            let fd = open(ports[GuestPorts.control] ?? "", O_RDWR | O_CLOEXEC)
            guard fd >= 0 else { throw VesselError.system("open the control port") }
            control = MessageChannel(fd: fd)
            let uptime = (try? FileIO.read("/proc/uptime")).flatMap { Double($0.split(separator: " ").first ?? "") }
            control.send(AgentReport.event(.ready(kernel: KernelRelease.current(), uptime: uptime)))
            try serve()
        } catch {
            log("vessel agent: \(error)")
        }
        vessel_power_off()
        exit(1)
    }

    func log(_ text: String) {
        FDIO.writeAll(console, Array((text + "\n").utf8))
    }

    private func serve() throws {
        let signals = try SignalFD.block([SIGCHLD])
        while true {
            let slots = Array(relays.keys)
            var fds = [
                pollfd(fd: control.fd, events: Int16(POLLIN), revents: 0),
                pollfd(fd: signals, events: Int16(POLLIN), revents: 0),
            ]
            for slot in slots { fds += relays[slot]?.relay.pollFDs ?? [] }
            if poll(&fds, nfds_t(fds.count), -1) < 0 { continue }
            var offset = 2
            for slot in slots {
                guard let relay = relays[slot]?.relay else { continue }
                let count = relay.pollFDs.count
                relay.handle(fds[offset..<(offset + count)])
                offset += count
            }
            if fds[1].revents != 0 {
                _ = SignalFD.drain(signals)
                reap()
            }
            if fds[0].revents != 0 {
                control.fill()
                let requests = control.drain(AgentRequest.self) { [weak self] in self?.log("vessel agent: skipped: \($0)") }
                for request in requests {
                    control.send(AgentReport.reply(Reply(id: request.id, answer: handle(request.command))))
                }
                if control.closed { throw VesselError.setup("the control port closed") }
            }
        }
    }

    private func handle(_ command: AgentCommand) -> Answer {
        let id: ContainerID
        do { id = try ContainerID(Self.containerID) } catch { return .failed(reason: "\(error)") }
        do {
            switch command {
            case let .refresh(refresh):
                try GuestFreshness.apply(refresh)
                refreshed = true
                return .done
            case let .create(guest):
                guard refreshed else { throw VesselError.setup("agent: create before the host refreshed the guest's RNG and clock") }
                return .pid(try create(guest, id: id))
            case let .container(command):
                return try handle(command, id: id)
            case let .network(update):
                try GuestNetwork.carryLate(update, containerPID: containerPID)
                return .done
            case let .join(join):
                guard refreshed else { throw VesselError.setup("agent: join before the host refreshed the guest's RNG and clock") }
                return .pid(try self.join(join))
            case let .mountShares(shares):
                guard refreshed else { throw VesselError.setup("agent: mount before the host refreshed the guest's RNG and clock") }
                try GuestSystem.mountShares(shares)
                return .done
            case let .member(member, command):
                let memberID = try ContainerID(member)
                guard members.values.contains(memberID) else { throw VesselError.notRunning(id: member, status: "stopped") }
                return try handle(command, id: memberID)
            }
        } catch {
            return .failed(reason: "\(error)")
        }
    }

    private func handle(_ command: ContainerCommand, id: ContainerID) throws -> Answer {
        let lifecycle = Lifecycle(store: store) { [weak self] in self?.log("vessel agent: \($0)") }
        switch command {
        case .start:
            try lifecycle.start(id)
        case let .kill(signal, all):
            try lifecycle.kill(id, signal: signal, all: all)
        case .pause:
            try lifecycle.setPaused(id, true)
        case .resume:
            try lifecycle.setPaused(id, false)
        case .ps:
            return .pids(try lifecycle.processes(id))
        case let .update(resources):
            try lifecycle.update(id, resources: resources)
        case let .exec(slot, process):
            return .pid(try exec(process, slot: slot, id: id))
        case let .signalExec(slot, signal):
            guard let pid = execSlots.first(where: { $0.value == slot })?.key else {
                throw VesselError.setup("agent: no process in exec slot \(slot)")
            }
            try sys("kill \(pid)", Glibc.kill(pid, signal))
        case let .resize(slot, rows, columns):
            // The process gets SIGWINCH from its pty.
            guard let master = relays[slot]?.master, master >= 0 else { throw VesselError.setup("agent: no terminal in slot \(slot)") }
            PseudoTerminal.setSize(master, rows: rows, columns: columns)
        }
        return .done
    }

    private func create(_ guest: GuestCreate, id: ContainerID) throws -> pid_t {
        var spec = guest.spec
        try GuestSystem.mountShares(guest.shares)
        try GuestSystem.bringUpNetwork(guest.network)
        try GuestNetwork.prepare(&spec, for: guest.interfaces, placeholderMACs: guest.placeholderMACs)
        containerPID = try createContainer(spec, id: id, bundle: Self.bundle, slot: 0)
        try GuestNetwork.configure(guest.interfaces, loopbackUp: guest.loopbackUp, containerPID: containerPID)
        return containerPID
    }

    /// A further container of the pod: it joins the sandbox container's
    /// namespaces that it shares (by their paths in this guest), and its
    /// stdio is an exec slot's, so it ends as an exec'd process does. A
    /// pool VM's container joins no namespaces: there is no sandbox.
    private func join(_ join: PodJoin) throws -> pid_t {
        guard join.joins.isEmpty || containerPID > 0 else { throw VesselError.setup("agent: no pod sandbox runs in this VM") }
        let id = try ContainerID(join.id)
        guard id.value != Self.containerID, !members.values.contains(id) else { throw VesselError.alreadyExists(id.value) }
        if let refresh = join.refresh { try GuestFreshness.apply(refresh) }
        var spec = join.spec
        var linux = spec.linux ?? LinuxConfig()
        linux.namespaces = (linux.namespaces ?? []) + join.joins.map { Namespace(type: $0, path: "/proc/\(containerPID)/ns/\($0.procName)") }
        spec.linux = linux
        let pid = try createContainer(spec, id: id, bundle: "/run/bundles/" + id.value, slot: join.slot)
        execSlots[pid] = join.slot
        members[pid] = id
        return pid
    }

    /// Writes `spec` into `bundle` and creates the container with the linux
    /// backend, its stdio the slot's; returns its init's pid.
    private func createContainer(_ spec: Spec, id: ContainerID, bundle: String, slot: Int) throws -> pid_t {
        try FileIO.makeDirectories(bundle)
        try FileIO.writeAtomically(bundle + "/config.json", try JSONEncoder().encode(spec))
        var options = CreateOptions()
        options.bundle = bundle
        // The initramfs is the kernel's rootfs, which pivot_root cannot move.
        options.noPivot = true
        let creator = ContainerCreator(store: store) { [weak self] in self?.log("vessel agent: \($0)") }
        return try withStdio(slot: slot, terminal: spec.process?.terminal == true) { consoleSocket in
            options.consoleSocket = consoleSocket
            return try creator.create(id: id, options: options)
        }
    }

    private func exec(_ process: Process, slot: Int, id: ContainerID) throws -> pid_t {
        let file = "/run/exec-\(slot).json"
        try FileIO.writeAtomically(file, try JSONEncoder().encode(process))
        var options = ExecOptions()
        options.processFile = file
        let pid = try withStdio(slot: slot, terminal: process.terminal == true) { consoleSocket in
            options.consoleSocket = consoleSocket
            return try ProcessExecutor(store: store).exec(id, options: options)
        }
        execSlots[pid] = slot
        return pid
    }

    /// Runs `body` with the slot's stdio as fds 0-2, which the process it
    /// spawns inherits, and the agent's own stdio back afterwards: slot 0's
    /// ports themselves (the container's end powers the VM off), an exec
    /// slot's through pipes (SlotStreams). For a terminal, `body` gets a
    /// console socket instead; the pty master that arrives there is relayed
    /// to the slot's ports.
    private func withStdio<T>(slot: Int, terminal: Bool, _ body: (String?) throws -> T) throws -> T {
        var opened: [Int32] = []
        var listener: Int32 = -1
        defer {
            opened.forEach { close($0) }
            if listener >= 0 { close(listener) }
            let null = open("/dev/null", O_RDWR)
            dup2(null, 0); dup2(console, 1); dup2(console, 2)
            close(null)
        }
        func openPort(_ stream: GuestPorts.Stream) throws -> Int32 {
            let name = GuestPorts.name(slot: slot, stream)
            let fd = open(ports[name] ?? "", (stream == .stdin ? O_RDONLY : O_WRONLY) | O_CLOEXEC)
            guard fd >= 0 else { throw VesselError.system("open port \(name)") }
            return fd
        }
        guard terminal else {
            for stream in GuestPorts.Stream.allCases { opened.append(try openPort(stream)) }
            if slot > 0 {
                let (streams, child) = try SlotStreams.pipes(ports: (opened[0], opened[1], opened[2]))
                relays[slot] = streams  // the ports are the relay's now
                opened = child
            }
            for (target, fd) in opened.enumerated() { dup2(fd, Int32(target)) }
            do {
                return try body(nil)
            } catch {
                relays.removeValue(forKey: slot)?.finish()
                throw error
            }
        }
        let socketPath = "/run/console-\(slot).sock"
        listener = try UnixSocket.listen(socketPath)
        let result = try body(socketPath)
        // The pty master was sent while `body` ran; it waits in the backlog.
        let connection = accept(listener, nil, nil)
        guard connection >= 0 else { throw VesselError.system("accept on \(socketPath)") }
        let master = vessel_recv_fd(connection)
        close(connection)
        guard master >= 0 else { throw VesselError.system("receive the pty master") }
        let input = try openPort(.stdin), output = try openPort(.stdout)
        relays[slot] = SlotStreams.terminal(master: master, stdinPort: input, stdoutPort: output)
        return result
    }

    private func reap() {
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            if pid <= 0 { return }
            let code = Spawner.exitCode(fromWaitStatus: status)
            if let slot = execSlots[pid] ?? (pid == containerPID ? 0 : nil) {
                // What the process wrote goes out first; then its slot's
                // ports are free for the next exec.
                relays.removeValue(forKey: slot)?.finish()
            }
            if let member = members.removeValue(forKey: pid) {
                // Nothing of it may outlive its init (a pod without a shared
                // pid namespace), and nothing asks about it after this.
                try? Lifecycle(store: store) { [weak self] in self?.log("vessel agent: \($0)") }.delete(member, force: true)
            }
            if let slot = execSlots.removeValue(forKey: pid) {
                control.send(AgentReport.event(.execExit(slot: slot, status: code)))
            } else if pid == containerPID {
                control.send(AgentReport.event(.exit(status: code)))
                vessel_power_off()
            }
        }
    }
}
