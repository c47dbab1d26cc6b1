import ArgumentParser
import Glibc
import Linux
import OCI
import Runtime

/// The init's pid, for the signal forwarder (a C handler cannot capture).
nonisolated(unsafe) var forwardedPID: pid_t = 0

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Create and start a container, wait for it and delete it.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var flags: CreateFlags
    @Flag(name: [.short, .long], help: "Return once the container has started.") var detach = false
    @Flag(help: "Keep the container's state after it exits.") var keep = false
    @Argument(help: "Container id.") var id: String

    func run() throws {
        var exitCode: Int32 = 0
        try perform(global) {
            let id = try containerID(id)
            let pid = try createContainer(global, id, flags)
            let lifecycle = lifecycle(global)
            do {
                try lifecycle.start(id)
            } catch {
                try? lifecycle.delete(id, force: true)
                throw error
            }
            if detach { return }
            forwardSignals(to: pid)
            exitCode = Spawner.exitCode(fromWaitStatus: Spawner.wait(pid))
            if !keep { try lifecycle.delete(id, force: true) }
        }
        if exitCode != 0 { throw ExitCode(exitCode) }
    }

}

/// Signals sent to `vessel run` or `vessel exec` go on to the process, as with runc.
func forwardSignals(to pid: pid_t) {
    forwardedPID = pid
    for signal in [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH] {
        Glibc.signal(signal) { received in kill(forwardedPID, received) }
    }
}
