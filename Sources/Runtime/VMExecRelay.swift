import Errors
import FoundationEssentials
import Glibc
import Linux
import OSKit
import MicroVM
import OCI

// `exec` into a VM-mode container. `vessel exec` spawns this relay
// (`vessel vm-exec <supervisor dir> <id> <process.json>`) as the host face
// of the new process: it takes an exec slot from the supervisor, connects
// the slot's ports, has the agent start the process in the container inside
// the guest, relays stdio, and exits with the process's status, so `exec`
// and engines that wait on the pid from --pid-file see its code. A pod's
// further container has the same host face (`vessel vm-member <dir>`): its
// process is started by joining the sandbox's VM (VMPodMember).
public struct VMExecRelay {
    public enum Launch {
        /// The process in process.json (removed once read).
        case exec(processFile: String)
        /// A further container of the pod, from its VMPodMember.Plan.
        case join(PodJoin)
    }

    let target: VMTarget
    let launch: Launch
    let consoleSocket: String?
    let reportFD: Int32

    public init(target: VMTarget, launch: Launch, consoleSocket: String?, reportFD: Int32) {
        self.target = target
        self.launch = launch
        self.consoleSocket = consoleSocket
        self.reportFD = reportFD
    }

    /// `vessel vm-member <dir>`: the relay of the pod member whose state directory is `directory`.
    public static func member(directory: String, reportFD: Int32) throws -> VMExecRelay {
        let plan = try JSONDecoder().decode(VMPodMember.Plan.self, from: FileIO.readData(VMPodMember.Plan.path(in: directory)))
        return VMExecRelay(
            target: VMTarget(supervisorDirectory: plan.supervisorDirectory, id: plan.join.id), launch: .join(plan.join),
            consoleSocket: plan.consoleSocket, reportFD: reportFD)
    }

    public func run() -> Never {
        signal(SIGPIPE, SIG_IGN)
        let client: SupervisorClient
        let relay: StdioRelay
        let slot: Int
        let signals: Int32
        do {
            // Signals sent to `exec` go on to the process in the guest, as in linux mode.
            signals = try SignalFD.block([SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2])
            let process: Process? = try launch.processFile.map { file in
                defer { unlink(file) }
                return try JSONDecoder().decode(Process.self, from: FileIO.readData(file))
            }
            client = try SupervisorClient(directory: target.supervisorDirectory, id: target.id)
            guard let reserved = try client.request(.reserveSlot).slot else {
                throw VesselError.initFailed("vm: no exec slot")
            }
            slot = reserved
            let sockets = try SocketDirectory(target.supervisorDirectory)
            let terminal = (process ?? launch.joined?.spec.process)?.terminal == true
            relay = try StdioRelay.forSlot(slot, consoleSocket: terminal ? consoleSocket : nil) {
                try sockets.connect(port: $0)
            }
            if let process {
                _ = try client.request(target.command(.exec(slot: slot, process: process)))
            } else if var join = launch.joined {
                join.slot = slot
                // The guest creates a container: as long as a create may take.
                _ = try client.request(.join(join), timeoutSeconds: 120)
            }
            StartReport.started(detail: "").send(on: reportFD)
        } catch {
            StartReport.failed(reason: "\(error)").send(on: reportFD)
            exit(1)
        }
        while true {
            // The exit may have come in the same read as the exec's reply:
            // it waits in the client's buffer, and the socket will not
            // poll readable for it.
            if let status = exitStatus(in: client.bufferedEvents(), slot: slot) { finish(relay, status) }
            let relayFDs = relay.pollFDs
            var fds =
                [
                    pollfd(fd: client.channel.fd, events: Int16(POLLIN), revents: 0),
                    pollfd(fd: signals, events: Int16(POLLIN), revents: 0),
                ] + relayFDs
            if poll(&fds, nfds_t(fds.count), relay.isTerminal ? 250 : -1) < 0 { continue }
            if let resize = relay.resizeCommand(slot: slot) { client.post(target.command(resize)) }
            relay.handle(fds[2...])
            for number in SignalFD.drain(signals) {
                client.post(target.command(.signalExec(slot: slot, signal: number)))
            }
            guard fds[0].revents != 0 else { continue }
            if let status = exitStatus(in: client.receivedEvents(), slot: slot) { finish(relay, status) }
            if client.channel.closed { finish(relay, 137) }  // the VM went away with the process
        }
    }

    private func exitStatus(in events: [SupervisorEvent], slot: Int) -> Int32? {
        for case let .execExit(exitedSlot, status) in events where exitedSlot == slot { return status }
        return nil
    }

    /// The process has written all it will (its writes complete only once
    /// QEMU has taken them): the rest of its output goes out, then the
    /// relay exits with its status.
    private func finish(_ relay: StdioRelay, _ status: Int32) -> Never {
        while relay.drain() {}
        exit(status)
    }
}

extension VMExecRelay.Launch {
    var processFile: String? {
        if case let .exec(file) = self { return file }
        return nil
    }

    var joined: PodJoin? {
        if case let .join(join) = self { return join }
        return nil
    }
}
