import OSKit
import Errors
import CVessel
import FoundationEssentials
import Glibc
import OCI

// The container's init, inside the new namespaces (cloned in place, or
// `vessel init` re-executed, see InitEntry). It sets everything up from its
// hand-off, reports `ready`, blocks on the exec FIFO until `start`, then
// becomes the user's process with execve.
public struct ContainerInit {
    let context: InitContext
    let channel: MessageChannel
    /// In place: the program runs through it. Nil: re-executed from a
    /// read-only view of vessel's binary, which may exec the program itself.
    let trampoline: ExecTrampoline?

    public init(context: InitContext, channel: MessageChannel, trampoline: ExecTrampoline? = nil) {
        self.context = context
        self.channel = channel
        self.trampoline = trampoline
    }

    /// Never returns on success (execve); on failure before `ready` the
    /// parent gets the error, afterwards it goes to the container's stderr.
    public func run() -> Never {
        // Named as runc names its init (runc:[2:INIT]), so `ps` tells a
        // created container's waiting init from the user's process.
        _ = vessel_set_name("vessel:[2:INIT]")
        var reportedReady = false
        // Open from `start`'s opening of the FIFO until the hooks ran: a
        // failure meanwhile goes to `start` on it (ExecFifoSignal).
        var startFD: Int32 = -1
        do {
            let prepared = try setUp(context.spec)
            // As runc: seccomp, capabilities and the user switch happen
            // before `ready`, so what cannot be applied fails `create`, and
            // startContainer hooks run inside the container's filter.
            channel.send(InitEvent.lockingDown)
            try prepared.lockDown()
            _ = vessel_set_pdeathsig(0)
            channel.send(InitEvent.ready)
            reportedReady = true
            channel.close()
            startFD = try waitForStart(prepared.descriptorDirectory)
            try prepared.runStartHooks()
            ExecFifoSignal.sendStarted(on: startFD)
            startFD = -1
            try prepared.exec()
        } catch {
            let text = "\(error)".split(separator: "\n").joined(separator: " ")
            if startFD >= 0 {
                ExecFifoSignal.sendFailure(text, on: startFD)
            } else if reportedReady {
                TextOutput.standardError("vessel init: \(text)\n")
            } else {
                channel.send(InitEvent.failed(reason: text))
            }
            _exit(127)
        }
    }

    struct Prepared {
        let spec: Spec
        let process: Process
        let executable: String
        let state: String?
        let caps: CapabilitySet
        let preserveFDs: Int
        /// See ContainerInit.trampoline.
        var trampoline: ExecTrampoline?
        /// /proc/self/fd of the host's procfs, opened before pivot_root: the
        /// exec FIFO is reopened through it, whatever the container's /proc is.
        var descriptorDirectory: Int32 = -1
        /// Where SCMP_ACT_NOTIFY's fd goes (linux.seccomp.listenerPath).
        var seccompAgent: SeccompAgent?
        /// The umask without process.user.umask: runc's init sets 022
        /// whatever its caller's was; its exec keeps the caller's (nil).
        var defaultUmask: mode_t?

        /// Seccomp, capabilities, user and working directory, in runc's
        /// order: without no_new_privs, loading a filter needs CAP_SYS_ADMIN,
        /// so it goes first; with it, as late as possible.
        func lockDown() throws {
            try ProcessAttributes.applySchedulingAndIO(process)
            try ProcessAttributes.applyPersonality(spec.linux?.personality)
            let seccomp = spec.linux?.seccomp.map(SeccompFilter.init)
            let noNewPrivileges = process.noNewPrivileges == true
            try SecurityModules.applyExecLabels(process)
            if noNewPrivileges { try sys("prctl(PR_SET_NO_NEW_PRIVS)", vessel_set_no_new_privs()) }
            if !noNewPrivileges { try deliver(seccomp?.load()) }
            try caps.applyBounding()
            // chdir while still privileged (a directory root can reach but the
            // user cannot), then again as the user if that was refused.
            let changedEarly = chdir(process.cwd) == 0
            if !changedEarly && errno != EACCES && errno != EPERM {
                throw VesselError.system("chdir to process.cwd \(process.cwd)")
            }
            try switchUser(process.user)
            try caps.applyProcessSets()
            if !changedEarly && chdir(process.cwd) != 0 { throw VesselError.system("chdir to process.cwd \(process.cwd)") }
            try checkWorkingDirectory()
            markDescriptorsCloseOnExec(keeping: 3 + preserveFDs)
            if noNewPrivileges { try deliver(seccomp?.load()) }
        }

        /// The filter's notification fd, to the seccomp agent.
        func deliver(_ notifyFD: Int32?) throws {
            guard let notifyFD else { return }
            guard let seccompAgent else {
                close(notifyFD)
                throw VesselError.invalidValue(field: "linux.seccomp.listenerPath", reason: "SCMP_ACT_NOTIFY needs a seccomp agent")
            }
            try seccompAgent.deliver(notifyFD)
        }

        /// The startContainer hooks; then `run` tells `start` on the exec
        /// FIFO, whose closing at execve (close-on-exec) tells it we exec'd.
        func runStartHooks() throws {
            if let hooks = spec.hooks?.startContainer, !hooks.isEmpty, let state {
                try HookRunner.run(hooks, kind: "startContainer", state: state)
            }
        }

        func exec() throws -> Never {
            try ProcessAttributes.applyAffinity(process.execCPUAffinity?.final, field: "process.execCPUAffinity.final")
            let environment = ProcessEnvironment.resolve(process)
            let failure: Int32
            if let trampoline {
                // Where the program cannot run, the trampoline writes the
                // line below itself; this is the trampoline's own failure.
                failure = trampoline.exec(executable, arguments: process.args ?? [], environment: environment)
            } else {
                let argv = CStringArray(process.args ?? [])
                let envp = CStringArray(environment)
                execve(executable, argv.pointer, envp.pointer)
                failure = errno
            }
            // As runc's init: the process's own failure, on its stderr, in
            // Go's words (`exec /x: no such file or directory`), status 1.
            // The runtime's part went well; whoever waits sees the exit.
            // _exit: an in-place child holds the CLI's stdio buffers too.
            TextOutput.standardError("exec \(executable): \(Self.goErrorText(failure))\n")
            _exit(1)
        }

        /// strerror as Go spells it: the same words, lower-case first letter.
        static func goErrorText(_ code: Int32) -> String {
            let text = String(cString: strerror(code))
            return text.prefix(1).lowercased() + text.dropFirst()
        }

        /// The working directory must be inside the container's root: a cwd
        /// reached through a leaked descriptor of the host would not be
        /// (CVE-2024-21626 class); getcwd says "(unreachable)" then.
        func checkWorkingDirectory() throws {
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            guard getcwd(&buffer, buffer.count) != nil else {
                throw VesselError.system("process.cwd \(process.cwd) is outside the container (getcwd)")
            }
            let cwd = String(nulTerminated: buffer)
            guard cwd.hasPrefix("/") else {
                throw VesselError.setup("process.cwd \(process.cwd) is outside the container: refused")
            }
        }

        /// As runc: stdio (the pty above all) is handed to the user the
        /// process runs as, so a non-root process can use its console.
        /// /dev/null is left alone; an owner or group the namespace cannot
        /// map is skipped, as is a read-only /dev.
        func giveStdioTo(_ user: User) {
            for fd in Int32(0)...2 {
                var info = stat()
                guard fstat(fd, &info) == 0, info.st_uid != user.uid else { continue }
                if (info.st_mode & S_IFMT) == S_IFCHR && info.st_rdev == vessel_makedev(1, 3) { continue }
                _ = fchown(fd, user.uid, info.st_gid)
            }
        }

        func switchUser(_ user: User) throws {
            giveStdioTo(user)
            _ = vessel_set_keepcaps(1)
            var groups = (user.additionalGids ?? []).map { gid_t($0) }
            if setgroups(groups.count, &groups) != 0 && errno != EPERM {
                throw VesselError.system("setgroups \(groups)")
            }
            try sys("setresgid \(user.gid)", vessel_setresgid(user.gid))
            try sys("setresuid \(user.uid)", vessel_setresuid(user.uid))
            _ = vessel_set_keepcaps(0)
            if let mask = user.umask.map({ mode_t($0) }) ?? defaultUmask { umask(mask) }
        }

        func markDescriptorsCloseOnExec(keeping lowest: Int) {
            for name in FileIO.listDirectory("/proc/self/fd") {
                guard let fd = Int32(name), fd >= lowest else { continue }
                let flags = fcntl(fd, F_GETFD)
                if flags >= 0 { _ = fcntl(fd, F_SETFD, flags | FD_CLOEXEC) }
            }
        }
    }

    func setUp(_ spec: Spec) throws -> Prepared {
        guard let process = spec.process else { throw VesselError.missingField("process") }
        let linux = spec.linux ?? LinuxConfig()
        let namespaces = linux.namespaces ?? []
        try ProcessAttributes.applyAffinity(process.execCPUAffinity?.initial, field: "process.execCPUAffinity.initial")
        if context.unshareCgroup { try sys("unshare cgroup namespace", vessel_unshare_cgroup()) }
        if let offsets = linux.timeOffsets { try enterTimeNamespace(offsets) }
        // The host's session keyring must not be reachable from the container.
        if let name = context.newKeyring, vessel_join_session_keyring(name) < 0, errno != ENOSYS {
            throw VesselError.system("create a session keyring")
        }
        // As runc: a new network namespace has its loopback up.
        if namespaces.contains(where: { $0.type == .network && $0.path == nil }) {
            try sysNegative("bring up lo in the new network namespace", vessel_configure_interface("lo", nil, 0, nil))
        }
        let hasMountNamespace = namespaces.contains { $0.type == .mount }
        let rootfs = Rootfs(
            spec: spec, rootfs: context.rootfs, cgroupDirectory: context.cgroupDirectory,
            newCgroupNamespace: namespaces.contains { $0.type == .cgroup },
            inUserNamespace: namespaces.contains { $0.type == .user }, bindSourceFDs: context.bindSourceFDs ?? [])
        if hasMountNamespace { try rootfs.prepare() }
        var state: String?
        if context.pauseForHooks {
            channel.send(InitEvent.mounted)
            guard case let .proceed(stateJSON)? = try channel.receive(InitCommand.self) else {
                throw VesselError.setup("the runtime went away during create")
            }
            state = stateJSON
            if let hooks = spec.hooks?.createContainer, !hooks.isEmpty {
                try HookRunner.run(hooks, kind: "createContainer", state: stateJSON)
            }
        }
        // Before the root changes: the FIFO is reopened through this later.
        let descriptorDirectory = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC)
        guard descriptorDirectory >= 0 else { throw VesselError.system("open /proc/self/fd") }
        if hasMountNamespace {
            try rootfs.pivot(noPivot: context.noPivot)
        } else {
            try sys("chroot \(context.rootfs)", chroot(context.rootfs))
            try sys("chdir /", chdir("/"))
        }
        // sysctls go in before readonlyPaths makes /proc/sys read-only.
        try writeSysctls(linux.sysctl ?? [:])
        try Terminal.newSession()
        if process.terminal == true { try Terminal.attach(consoleFD: context.consoleFD, size: process.consoleSize) }
        try makeWorkingDirectory(process.cwd)
        if hasMountNamespace { try rootfs.finish() }
        try setIdentity(spec)
        try Rlimits.apply(process.rlimits ?? [])
        if let score = process.oomScoreAdj {
            let proc = try ProcFS()
            defer { proc.close() }
            do {
                try proc.write("self/oom_score_adj", "\(score)")
            } catch {
                throw VesselError(error).wrapped("config.json: process.oomScoreAdj", field: "process.oomScoreAdj")
            }
        }
        let executable = try ExecutableLookup.find(process.args?.first ?? "", env: process.env ?? [], cwd: process.cwd)
        var prepared = Prepared(
            spec: spec, process: process, executable: executable, state: state,
            caps: CapabilitySet(process.capabilities), preserveFDs: context.preserveFDs,
            trampoline: trampoline)
        prepared.descriptorDirectory = descriptorDirectory
        prepared.seccompAgent = context.seccompAgent
        prepared.defaultUmask = 0o022
        return prepared
    }

    /// linux.timeOffsets: the time namespace is made here, not by clone, so
    /// its offsets can be written before any process is in it; the user's
    /// program enters it at execve (the kernel moves a task into its
    /// time_for_children namespace on exec).
    func enterTimeNamespace(_ offsets: [String: TimeOffset]) throws {
        try sys("unshare the time namespace", vessel_unshare(NamespaceType.time.cloneFlag))
        let lines = offsets.sorted { $0.key < $1.key }.map { clock, offset in
            "\(clock) \(offset.secs ?? 0) \(offset.nanosecs ?? 0)\n"
        }.joined()
        let proc = try ProcFS()
        defer { proc.close() }
        do {
            try proc.write("self/timens_offsets", lines)
        } catch {
            throw VesselError(error).wrapped("config.json: linux.timeOffsets", field: "linux.timeOffsets")
        }
    }

    /// process.cwd is created when missing, as runc does, before the root
    /// may turn read-only; inside the container's root whatever its links say.
    func makeWorkingDirectory(_ cwd: String) throws {
        let root = try InRoot("/")
        defer { root.close() }
        do {
            Glibc.close(try root.makeDirectories(cwd))
        } catch {
            throw VesselError(error).wrapped("config.json: process.cwd: cannot create \(cwd)", field: "process.cwd")
        }
    }

    /// Written through a procfs checked to be the container's own (see
    /// ProcFS); which keys are allowed at all was decided in `create`.
    func writeSysctls(_ sysctls: [String: String]) throws {
        guard !sysctls.isEmpty else { return }
        let proc: ProcFS
        do {
            proc = try ProcFS()
        } catch {
            throw VesselError(error).wrapped("config.json: linux.sysctl", field: "linux.sysctl")
        }
        defer { proc.close() }
        for (key, value) in sysctls.sorted(by: { $0.key < $1.key }) {
            do {
                try proc.write("sys/" + (SpecValidator.sysctlComponents(key) ?? []).joined(separator: "/"), value)
            } catch {
                throw VesselError(error).wrapped("config.json: linux.sysctl.\(key)", field: "linux.sysctl.\(key)")
            }
        }
    }

    func setIdentity(_ spec: Spec) throws {
        if let hostname = spec.hostname, !hostname.isEmpty {
            try sys("sethostname \(hostname)", sethostname(hostname, hostname.utf8.count))
        }
        if let domain = spec.domainname, !domain.isEmpty {
            try sys("setdomainname \(domain)", setdomainname(domain, domain.utf8.count))
        }
    }

    /// Blocks until `start` opens the FIFO's other end.
    func waitForStart(_ descriptorDirectory: Int32) throws -> Int32 {
        let fd = openat(descriptorDirectory, "\(context.fifoFD)", O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw VesselError.system("open exec fifo") }
        Glibc.close(context.fifoFD)
        return fd
    }
}
