import OSKit
import Errors
import CVessel
import Glibc
import OCI

/// The exec'd process before its execve: already in every namespace of the
/// container and in its cgroup (the C shim and the parent did that); it sets
/// up the terminal, rlimits, user, capabilities and seccomp, then execs.
/// A failure is sent to `vessel exec` over the socket; success closes it
/// (close-on-exec), which the parent reads as "started".
public struct ExecInit {
    let plan: ExecPlan
    let channel: MessageChannel
    /// See ContainerInit.trampoline.
    let trampoline: ExecTrampoline?

    public init(plan: ExecPlan, channel: MessageChannel, trampoline: ExecTrampoline? = nil) {
        self.plan = plan
        self.channel = channel
        self.trampoline = trampoline
    }

    public func run() -> Never {
        // Once `exec` was told the process started (--exec-wait-fifo), a
        // failure is the process's own: on its stderr, as after execve.
        var reported = false
        do {
            _ = vessel_set_pdeathsig(0)
            let mountNamespaceFD = plan.mountNamespaceFD
            if mountNamespaceFD >= 0 {
                // Single-threaded here, as setns into a mount namespace needs.
                try sys("join the container's mount namespace", vessel_setns(mountNamespaceFD, 0x0002_0000))
                close(mountNamespaceFD)
            }
            let process = plan.process
            try Terminal.newSession()
            if process.terminal == true { try Terminal.attach(consoleFD: plan.consoleFD, size: process.consoleSize) }
            try Rlimits.apply(process.rlimits ?? [])
            let executable = try ExecutableLookup.find(
                process.args?.first ?? "", env: process.env ?? [], cwd: process.cwd, field: ExecutableLookup.execField)
            var linux = LinuxConfig()
            linux.seccomp = plan.seccomp
            let spec = Spec(ociVersion: SpecVersion.current, process: process, linux: linux)
            let prepared = ContainerInit.Prepared(
                spec: spec, process: process, executable: executable, state: nil,
                caps: CapabilitySet(process.capabilities), preserveFDs: plan.preserveFDs,
                trampoline: trampoline)
            if plan.waitFifoFD >= 0 {
                channel.send(InitEvent.ready)
                reported = true
                try Self.waitForReader(plan.waitFifoFD)
            } else {
                channel.send(InitEvent.lockingDown)
            }
            try prepared.lockDown()
            try prepared.exec()
        } catch {
            let line = "\(error)".split(separator: "\n").joined(separator: " ")
            if reported { TextOutput.standardError("vessel exec: \(line)\n") } else { channel.send(InitEvent.failed(reason: line)) }
            _exit(127)
        }
    }

    /// Opens the fifo for writing, which returns once a reader has opened
    /// it, and closes it again: the program starts only then.
    static func waitForReader(_ fifo: Int32) throws {
        var fd: Int32
        repeat { fd = open("/proc/self/fd/\(fifo)", O_WRONLY | O_CLOEXEC) } while fd < 0 && errno == EINTR
        guard fd >= 0 else { throw VesselError.system("open the exec wait fifo for writing") }
        close(fd)
        close(fifo)
    }
}
