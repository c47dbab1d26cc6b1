import Errors
import FoundationEssentials
import Glibc
import Linux
import OSKit
import MicroVM
import OCI

// `exec` into a VM-mode container. `vessel exec` spawns this relay
// (`vessel vm-exec <dir> <id> <process.json>`) as the host face of the new
// process: it takes an exec slot from the supervisor, connects the slot's
// ports, has the agent start the process in the container inside the guest,
// relays stdio, and exits with the process's status, so `exec` and engines
// that wait on the pid from --pid-file see its code.
public struct VMExecRelay {
    let directory: String
    let id: String
    let processFile: String
    let consoleSocket: String?
    let reportFD: Int32

    public init(directory: String, id: String, processFile: String, consoleSocket: String?, reportFD: Int32) {
        self.directory = directory
        self.id = id
        self.processFile = processFile
        self.consoleSocket = consoleSocket
        self.reportFD = reportFD
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
            let process = try JSONDecoder().decode(Process.self, from: FileIO.readData(processFile))
            unlink(processFile)
            client = try SupervisorClient(directory: directory, id: id)
            guard let reserved = try client.request(.reserveSlot).slot else {
                throw VesselError.initFailed("vm: no exec slot")
            }
            slot = reserved
            let sockets = try SocketDirectory(directory)
            relay = try StdioRelay.forSlot(slot, consoleSocket: process.terminal == true ? consoleSocket : nil) {
                try sockets.connect(port: $0)
            }
            _ = try client.request(.container(.exec(slot: slot, process: process)))
            StartReport.started(detail: "").send(on: reportFD)
        } catch {
            StartReport.failed(reason: "\(error)").send(on: reportFD)
            exit(1)
        }
        while true {
            let relayFDs = relay.pollFDs
            var fds =
                [
                    pollfd(fd: client.channel.fd, events: Int16(POLLIN), revents: 0),
                    pollfd(fd: signals, events: Int16(POLLIN), revents: 0),
                ] + relayFDs
            if poll(&fds, nfds_t(fds.count), relay.isTerminal ? 250 : -1) < 0 { continue }
            if let resize = relay.resizeCommand(slot: slot) { client.post(.container(resize)) }
            relay.handle(fds[2...])
            for number in SignalFD.drain(signals) {
                client.post(.container(.signalExec(slot: slot, signal: number)))
            }
            guard fds[0].revents != 0 else { continue }
            for case let .execExit(exitedSlot, status) in client.receivedEvents() where exitedSlot == slot {
                // The process has written all it will: its writes complete
                // only once QEMU has taken them.
                while relay.drain() {}
                exit(status)
            }
            if client.channel.closed {
                while relay.drain() {}
                exit(137)  // the VM went away with the process
            }
        }
    }
}
