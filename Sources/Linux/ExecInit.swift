import CVessel
import FoundationEssentials
import Glibc
import OCI

// What `vessel exec` hands the process it starts inside a container: the
// process to run and the container's seccomp profile. Travels as JSON in
// the environment of the re-executed `vessel init`.
public struct ExecPlan: Codable {
    public var process: Process
    public var seccomp: Seccomp?
    public var preserveFDs: Int

    public init(process: Process, seccomp: Seccomp?, preserveFDs: Int) {
        self.process = process
        self.seccomp = seccomp
        self.preserveFDs = preserveFDs
    }

    public static let environmentName = "_VESSEL_EXEC"
}

/// The exec'd process before its execve: already in every namespace of the
/// container and in its cgroup (the C shim and the parent did that); it sets
/// up the terminal, rlimits, user, capabilities and seccomp, then execs.
/// A failure is sent to `vessel exec` over the socket; success closes it
/// (close-on-exec), which the parent reads as "started".
public struct ExecInit {
    let plan: ExecPlan
    let channel: InitChannel
    let consoleFD: Int32

    let mountNamespaceFD: Int32

    public init?(environment json: String, socketFD: Int32, consoleFD: Int32, mountNamespaceFD: Int32) {
        self.mountNamespaceFD = mountNamespaceFD
        guard let plan = try? JSONDecoder().decode(ExecPlan.self, from: Data(json.utf8)) else { return nil }
        self.plan = plan
        self.channel = InitChannel(fd: socketFD)
        self.consoleFD = consoleFD
    }

    public func run() -> Never {
        do {
            _ = vessel_set_pdeathsig(0)
            _ = fcntl(channel.fd, F_SETFD, FD_CLOEXEC)
            if mountNamespaceFD >= 0 {
                // Single-threaded here, as setns into a mount namespace needs.
                try sys("join the container's mount namespace", vessel_setns(mountNamespaceFD, 0x0002_0000))
                close(mountNamespaceFD)
            }
            let process = plan.process
            if process.terminal == true { try Terminal.attach(consoleFD: consoleFD, size: process.consoleSize) }
            try Rlimits.apply(process.rlimits ?? [])
            let executable = try ExecutableLookup.find(process.args?.first ?? "", env: process.env ?? [], cwd: process.cwd)
            var linux = LinuxConfig()
            linux.seccomp = plan.seccomp
            let spec = Spec(ociVersion: SpecVersion.current, process: process, linux: linux)
            let prepared = ContainerInit.Prepared(spec: spec, process: process, executable: executable, state: nil,
                                                  caps: CapabilitySet(process.capabilities), preserveFDs: plan.preserveFDs)
            try prepared.lockDown()
            try prepared.exec()
        } catch {
            channel.send(.failed("\(error)".split(separator: "\n").joined(separator: " ")))
            exit(127)
        }
    }
}
