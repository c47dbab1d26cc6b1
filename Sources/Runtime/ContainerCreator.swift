import Errors
import CVessel
import FoundationEssentials
import Glibc
import Linux
import OSKit
import OCI

// `create`: validates the bundle, claims the id, builds the cgroup, spawns
// the init in its namespaces and waits until it is ready. Any failure undoes
// everything: no state directory, cgroup or process is left behind.
public struct ContainerCreator {
    let store: StateStore
    let warn: (String) -> Void

    public init(store: StateStore, warn: @escaping (String) -> Void) {
        self.store = store
        self.warn = warn
    }

    /// The loaded, validated bundle.
    public struct Bundle {
        public let path: String
        public let spec: Spec
        public let rootfs: String
    }

    public static func loadBundle(_ path: String) throws -> Bundle {
        guard FileIO.isDirectory(path) else { throw VesselError.bundle("bundle \(path) is not a directory") }
        let bundle = try FileIO.realPath(path)
        let data: Data
        do {
            data = try FileIO.readData(bundle + "/config.json")
        } catch {
            throw VesselError.unreadable(path: bundle + "/config.json", reason: "\(error.reason)")
        }
        var spec = try SpecLoader.decode(data, path: bundle + "/config.json")
        spec.mounts = spec.mounts.map(destinationsFromRoot)
        try SpecValidator.validate(spec)
        try HostPreflight.checkMountOptions(spec.mounts ?? [])
        spec.mounts = spec.mounts.map { bindSourcesResolved($0, bundle: bundle) }
        let rootPath = spec.root?.path ?? ""
        let rootfs = rootPath.hasPrefix("/") ? rootPath : bundle + "/" + rootPath
        guard FileIO.isDirectory(rootfs) else {
            throw VesselError.invalidValue(field: "root.path", reason: "\(rootfs) is not a directory")
        }
        return Bundle(path: bundle, spec: spec, rootfs: try FileIO.realPath(rootfs))
    }

    /// A relative mount destination is taken from the container's `/`, as
    /// runc takes it (the runtime-spec asks for absolute ones).
    static func destinationsFromRoot(_ mounts: [Mount]) -> [Mount] {
        mounts.map { mount in
            guard !mount.destination.hasPrefix("/") else { return mount }
            var resolved = mount
            resolved.destination = "/" + mount.destination
            return resolved
        }
    }

    /// The runtime-spec: a relative bind source is relative to the bundle,
    /// not to the caller's working directory (both backends get the result).
    static func bindSourcesResolved(_ mounts: [Mount], bundle: String) -> [Mount] {
        mounts.map { mount in
            guard let source = mount.source, !source.hasPrefix("/"),
                MountOptions(mount.options ?? [], type: mount.type).isBind
            else { return mount }
            var resolved = mount
            resolved.source = bundle + "/" + source
            return resolved
        }
    }

    /// A reserved fd per bind source (by mounts index, -1 for other mounts),
    /// onto which the init's clone opens the source before it becomes the
    /// new user namespace's root (SpawnRequest.openBeforeRoot), for
    /// InitContext.bindSourceFDs. Not close-on-exec: the re-executed init
    /// inherits them, as fifoFD. Opened in the clone, not here, so that the
    /// source is a mount of the container's namespace, which it may bind.
    static func reserveBindSources(_ mounts: [Mount]) -> [Int32] {
        mounts.map { mount in
            guard mount.source != nil, MountOptions(mount.options ?? [], type: mount.type).isBind else { return -1 }
            return open("/dev/null", O_RDONLY)
        }
    }

    /// The host ids that a new user namespace maps the container's root to.
    static func hostRoot(_ linux: LinuxConfig) -> (uid: uid_t, gid: gid_t)? {
        guard (linux.namespaces ?? []).contains(where: { $0.type == .user && $0.path == nil }) else { return nil }
        func host(_ maps: [IDMapping]?) -> UInt32? {
            maps?.first { $0.containerID == 0 && $0.size > 0 }?.hostID
        }
        guard let uid = host(linux.uidMappings), let gid = host(linux.gidMappings) else { return nil }
        return (uid, gid)
    }

    /// Returns the init's pid; the init is our child until we exit.
    public func create(id: ContainerID, options: CreateOptions) throws -> pid_t {
        try create(id: id, options: options, bundle: Self.loadBundle(options.bundle))
    }

    /// `create` with the bundle already loaded (by `loadBundle(options.bundle)`),
    /// so config.json is read and decoded once.
    public func create(id: ContainerID, options: CreateOptions, bundle: Bundle) throws -> pid_t {
        try createWithRecord(id: id, options: options, bundle: bundle).pid
    }

    /// `create`, returning the record it saved as well: `run` goes on with
    /// it, as runc's run goes on with its container object, rather than read
    /// state.json back twice.
    public func createWithRecord(id: ContainerID, options: CreateOptions, bundle: Bundle) throws -> (
        pid: pid_t, record: ContainerRecord
    ) {
        let spec = bundle.spec
        let linux = spec.linux ?? LinuxConfig()
        DebugTrace.step("create \(id.value): bundle \(bundle.path), rootfs \(bundle.rootfs), config.json valid")
        reportWarnings(spec)
        try HostPreflight.check(spec)
        try PreservedFDs.check(options.preserveFDs)
        let settings = try CgroupResources.settings(for: linux.resources ?? Resources())
        let deviceFilter = try DeviceFilter(resources: linux.resources?.devices ?? [], devices: linux.devices ?? [])
        // Here every init is detached: a foreground `run` hands over the
        // socket of its own terminal session.
        try ConsoleSocketRule.check(detached: true, terminal: spec.process?.terminal == true, consoleSocket: options.consoleSocket)
        // Rootless without a delegated cgroup: none. Rootless never has a
        // device filter (loading it needs CAP_SYS_ADMIN on the host, as in
        // runc); its user namespace already refuses mknod.
        let placement = CgroupPlacement.current
        let cgroup = try placement.cgroup(for: linux, id: id, settings: settings)

        _ = try store.claim(id)
        var cleanup = Cleanup(store: store, id: id)
        defer { cleanup.run() }
        if let cgroup { try checkBeforeJoining(cgroup) }

        var record = ContainerRecord(
            id: id.value, bundle: bundle.path, rootfs: bundle.rootfs, pid: 0, pidStartTime: 0,
            created: Timestamp.now(), owner: "", annotations: spec.annotations,
            cgroupMountPoint: cgroup?.mountPoint, cgroupPath: cgroup?.path, hooks: spec.hooks, ociVersion: spec.ociVersion,
            devices: linux.devices)
        record.process = spec.process
        record.seccomp = linux.seccomp
        // Not owned until known: a `create` that dies here leaves a record
        // whose `delete` does not empty a cgroup that may be another's.
        record.ownsCgroup = false
        try store.save(record)
        let fifoPath = store.fifo(id)
        try sys("mkfifo \(fifoPath)", mkfifo(fifoPath, 0o622))
        // Writable by the container's user (not only root): the init opens it
        // after switching to process.user, as runc's does. Not under umask.
        try sys("chmod \(fifoPath)", chmod(fifoPath, 0o622))
        // In a user namespace the init reopens the FIFO as the container's
        // root, which must own it (as runc does).
        if let root = Self.hostRoot(linux) {
            try sys("chown \(fifoPath)", chown(fifoPath, root.uid, root.gid))
        }
        if let cgroup {
            let made = try cgroup.create(settings: settings)
            DebugTrace.step("create \(id.value): cgroup \(cgroup.directory) \(made ? "made" : "joined"), \(settings.count) limit file(s) written")
            // Joining a cgroup that a container in the store made shares in
            // owning it: the last of them to go removes it.
            let owned =
                made
                || store.containers(using: cgroup, except: id).contains {
                    $0.cgroupPath == cgroup.path && $0.ownsCgroup ?? true
                }
            record.ownsCgroup = owned
            cleanup.cgroup = owned ? cgroup : nil
            // Before the init is cloned into the cgroup: no moment without it.
            if !placement.rootless { cleanup.deviceProgram = (cgroup, try cgroup.setDeviceFilter(deviceFilter)) }
        }

        let pid = try spawnInit(
            bundle: bundle, cgroup: cgroup, fifoPath: fifoPath, options: options,
            record: &record, cleanup: &cleanup)
        if let pidFile = options.pidFile {
            try PidFile.write(pidFile, pid: pid)
        }
        cleanup.succeeded()
        return (pid, record)
    }

    /// A frozen cgroup (or ancestor) is refused, as runc does: the init
    /// would stop in it before it could report. A non-empty one is a
    /// warning, as in runc.
    func checkBeforeJoining(_ cgroup: Cgroup) throws {
        if let frozen = cgroup.frozenDirectory() {
            let by = frozen == cgroup.directory ? "" : " (cgroup.freeze is 1 in \(frozen))"
            throw VesselError.setup("container's cgroup \(cgroup.directory) is unexpectedly frozen\(by)")
        }
        let count = cgroup.exists ? cgroup.subtree().reduce(0) { $0 + $1.processes().count } : 0
        if count > 0 {
            warn("container's cgroup \(cgroup.directory) is not empty: \(count) process(es) found")
        }
    }

    private func spawnInit(
        bundle: Bundle, cgroup: Cgroup?, fifoPath: String, options: CreateOptions,
        record: inout ContainerRecord, cleanup: inout Cleanup
    ) throws -> pid_t {
        let spec = bundle.spec
        let namespaces = spec.linux?.namespaces ?? []
        let (channel, childEnd) = try InitSocket.pair()
        defer { channel.close() }
        let fifoFD = open(fifoPath, 0o10000000 /* O_PATH */)
        guard fifoFD >= 0 else { throw VesselError.system("open \(fifoPath)") }
        var consoleFD: Int32 = -1
        if spec.process?.terminal == true, let socketPath = options.consoleSocket {
            consoleFD = try ConsoleSocket.connect(socketPath)
        }
        var namespaceFDs = try NamespaceFDs(namespaces)
        var agentFD: Int32 = -1
        if let seccomp = spec.linux?.seccomp, seccomp.notifies, let path = seccomp.listenerPath {
            agentFD = try SeccompAgent.connect(path)
        }
        let bindSourceFDs = namespaces.contains { $0.type == .user } ? Self.reserveBindSources(spec.mounts ?? []) : nil
        // The init gets its own copies of these; ours close as soon as it is
        // spawned, or the channel would never report its death (no EOF while
        // we hold its end) and an init that dies before saying why would
        // leave `create` waiting forever.
        var childCopiesOpen = true
        func closeChildCopies() {
            guard childCopiesOpen else { return }
            childCopiesOpen = false
            Glibc.close(childEnd)
            Glibc.close(fifoFD)
            if consoleFD >= 0 { Glibc.close(consoleFD) }
            if agentFD >= 0 { Glibc.close(agentFD) }
            for fd in bindSourceFDs ?? [] where fd >= 0 { Glibc.close(fd) }
            namespaceFDs.close()
        }
        defer { closeChildCopies() }

        var context = InitContext(spec: spec, fifoFD: fifoFD, rootfs: bundle.rootfs)
        context.consoleFD = consoleFD
        context.bindSourceFDs = bindSourceFDs
        context.cgroupDirectory = cgroup?.directory
        context.noPivot = options.noPivot
        context.preserveFDs = options.preserveFDs
        if !options.noNewKeyring { context.newKeyring = "_ses." + record.id }
        context.unshareCgroup = namespaces.contains { $0.type == .cgroup && $0.path == nil }
        let hooks = spec.hooks
        context.pauseForHooks = [hooks?.prestart, hooks?.createRuntime, hooks?.createContainer, hooks?.startContainer]
            .contains { !($0 ?? []).isEmpty }

        let executable = try FileIO.realPath("/proc/self/exe")
        var request = SpawnRequest(path: executable, arguments: ["vessel", "init"], environment: [InitSocket.environment(childEnd)])
        let newUser = namespaces.contains { $0.type == .user && $0.path == nil }
        // The cgroup namespace is unshared by the init, once it is in its
        // cgroup; a time namespace with offsets too, once they are written.
        let initUnshares: Set<NamespaceType> = spec.linux?.timeOffsets == nil ? [.cgroup] : [.cgroup, .time]
        for namespace in namespaces where namespace.path == nil && !initUnshares.contains(namespace.type) {
            request.cloneFlags |= UInt64(namespace.type.cloneFlag)
        }
        request.joinNamespaces = namespaceFDs.ordered
        request.joinPIDNamespaceFD = namespaceFDs.pid
        // Only root enters a pid namespace from outside its user namespace.
        request.joinPIDNamespaceInChild = geteuid() != 0
        request.syncFD = childEnd
        // A joined user namespace too: its root is a mapped uid, ours is not.
        request.becomeRoot = namespaces.contains { $0.type == .user }
        request.openBeforeRoot = zip(spec.mounts ?? [], bindSourceFDs ?? []).compactMap { mount, fd in
            mount.source.flatMap { fd >= 0 ? ($0, fd) : nil }
        }
        request.protectExecutable = namespaces.contains { $0.type == .mount && $0.path == nil }

        // The agent's state names the init's pid, so it is filled in after the clone.
        if agentFD >= 0 { context.seccompAgent = SeccompAgent(socketFD: agentFD, state: "") }
        let launcher = InitLauncher(request: request, launch: .forContainer(spec), childEnd: childEnd, cgroup: cgroup?.directory)
        let started = try launcher.start(handoff: .create(context))
        let (pid, inCgroup) = (started.pid, started.inCgroup)
        closeChildCopies()
        cleanup.pid = pid
        record.pid = pid
        record.pidStartTime = ProcessStat(pid: pid)?.startTime ?? 0
        if cgroup == nil { record.initNamespace = InitNamespace.mark(of: pid, namespaces: namespaces) }
        if !namespaces.contains(where: { $0.type == .pid }) { record.sharesPIDNamespace = true }
        var peer = InitPeer(channel: channel, subject: "container init")
        try peer.beforeHandoff {
            try store.save(record)
            if newUser { try IDMapWriter.current.write(pid: pid, linux: spec.linux ?? LinuxConfig()) }
            try moveNetDevices(spec.linux?.netDevices ?? [:], into: pid)
            if let cgroup, !inCgroup { try cgroup.addProcess(pid) }
        }
        var agentState: String?
        if agentFD >= 0, let seccomp = spec.linux?.seccomp {
            agentState = try SeccompAgent.processState(
                ociVersion: spec.ociVersion, pid: pid, metadata: seccomp.listenerMetadata,
                state: record.state(status: .creating))
        }
        if started.inPlace {
            peer.handOff(.inPlace)
            if let agentState { channel.send(InitCommand.agentState(agentState)) }
        } else {
            if let agentState { context.seccompAgent?.state = agentState }
            peer.handOff(.create(context))
        }

        while true {
            switch try peer.next() {
            case .mounted?:
                DebugTrace.step("create \(record.id): init pid \(pid) has its mounts and devices; prestart and createRuntime hooks next")
                let state = try record.stateJSON(status: .creating)
                try HookRunner.run(hooks?.prestart ?? [], kind: "prestart", state: state, directory: record.bundle)
                try HookRunner.run(hooks?.createRuntime ?? [], kind: "createRuntime", state: state, directory: record.bundle)
                channel.send(InitCommand.proceed(state: state))
            case .ready?:
                DebugTrace.step("create \(record.id): init pid \(pid) is ready and waits on the exec FIFO for start")
                return pid
            case .lockingDown?:
                DebugTrace.step("create \(record.id): init pid \(pid) applies seccomp, capabilities and its user")
                continue
            case .failed?, .spawnFailed?:
                throw VesselError.initFailed("container init sent an unexpected message")
            case nil:
                // Closed without a word: it died, or it lives but could not
                // write (a seccomp profile that refuses its send and write).
                // Either way it goes, so `create` never waits on it.
                let alive = ProcessStat.isAlive(pid: pid, startTime: record.pidStartTime)
                Glibc.kill(pid, SIGKILL)
                let status = Spawner.wait(pid)
                cleanup.pid = nil
                if alive {
                    throw VesselError.initFailed("container init closed its channel without reporting ready (does linux.seccomp refuse sendmsg or write?)")
                }
                throw VesselError.initFailed("container init exited during set-up with status \(Spawner.exitCode(fromWaitStatus: status))")
            }
        }
    }

    /// linux.netDevices: each host interface moves into the init's network
    /// namespace under its new name, before the init goes on.
    func moveNetDevices(_ devices: [String: NetDevice], into pid: pid_t) throws {
        guard !devices.isEmpty else { return }
        let namespace = try sys("open /proc/\(pid)/ns/net", open("/proc/\(pid)/ns/net", O_RDONLY | O_CLOEXEC))
        defer { Glibc.close(namespace) }
        for (name, device) in devices.sorted(by: { $0.key < $1.key }) {
            let newName = device.name ?? name
            do {
                try sysNegative("move \(name) into the container as \(newName)", vessel_move_link(name, newName, namespace))
            } catch {
                throw VesselError(error).wrapped("config.json: linux.netDevices.\(name)", field: "linux.netDevices.\(name)")
            }
        }
    }

    func reportWarnings(_ spec: Spec) {
        SecurityModules.warnings(for: spec).forEach(warn)
        let caps = CapabilitySet(spec.process?.capabilities)
        if !caps.unknown.isEmpty {
            warn("config.json: process.capabilities: unknown to this host, ignored: \(caps.unknown.joined(separator: ", "))")
        }
        if let seccomp = spec.linux?.seccomp {
            let unknown = SeccompFilter(seccomp).unknownSyscalls
            if !unknown.isEmpty {
                warn("config.json: linux.seccomp: syscalls unknown to libseccomp, ignored: \(unknown.joined(separator: ", "))")
            }
        }
    }
}

/// Undoes a partial `create` unless it succeeded.
struct Cleanup {
    let store: StateStore
    let id: ContainerID
    var pid: pid_t?
    var cgroup: Cgroup?
    /// The device filter create attached: detached too, since a cgroup
    /// that was there before create is not removed.
    var deviceProgram: (cgroup: Cgroup, id: UInt32)?
    private var done = false

    init(store: StateStore, id: ContainerID) {
        self.store = store
        self.id = id
    }

    mutating func succeeded() { done = true }

    mutating func run() {
        guard !done else { return }
        done = true
        if let pid {
            kill(pid, SIGKILL)
            _ = Spawner.wait(pid)
        }
        if let deviceProgram { try? CgroupDeviceProgram.detach(id: deviceProgram.id, from: deviceProgram.cgroup.directory) }
        if let cgroup { store.release(cgroup, of: id, owned: true) { _ in } }
        store.remove(id)
    }
}
