import CVessel
import FoundationEssentials
import Glibc
import Linux
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

    static let cloneFlags: [NamespaceType: UInt64] = [
        // <linux/sched.h> values; the cgroup namespace is unshared by init.
        .pid: 0x2000_0000, .network: 0x4000_0000, .mount: 0x0002_0000,
        .ipc: 0x0800_0000, .uts: 0x0400_0000, .user: 0x1000_0000, .time: 0x80,
    ]

    /// The loaded, validated bundle.
    public struct Bundle {
        public let path: String
        public let spec: Spec
        public let rootfs: String
    }

    public static func loadBundle(_ path: String) throws -> Bundle {
        guard FileIO.isDirectory(path) else { throw RuntimeError.bundle("bundle \(path) is not a directory") }
        let bundle = try FileIO.realPath(path)
        let data: Data
        do {
            data = try FileIO.readData(bundle + "/config.json")
        } catch {
            throw ConfigError.unreadable(path: bundle + "/config.json", reason: "\(error.errno)")
        }
        let spec = try SpecLoader.decode(data, path: bundle + "/config.json")
        try SpecValidator.validate(spec)
        let rootPath = spec.root?.path ?? ""
        let rootfs = rootPath.hasPrefix("/") ? rootPath : bundle + "/" + rootPath
        guard FileIO.isDirectory(rootfs) else {
            throw ConfigError.invalidValue(field: "root.path", reason: "\(rootfs) is not a directory")
        }
        return Bundle(path: bundle, spec: spec, rootfs: try FileIO.realPath(rootfs))
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
        let spec = bundle.spec
        let linux = spec.linux ?? LinuxConfig()
        reportWarnings(spec)
        let settings = try CgroupResources.settings(for: linux.resources ?? Resources())
        if options.consoleSocket == nil && spec.process?.terminal == true {
            throw RuntimeError.invalidArgument("config.json: process.terminal is true: --console-socket is required")
        }
        guard let mountPoint = Cgroup.findMountPoint() else {
            throw RuntimeError.unsupported("no cgroup v2 hierarchy is mounted (looked at /sys/fs/cgroup and /sys/fs/cgroup/unified)")
        }
        let cgroup = Cgroup(mountPoint: mountPoint, path: Cgroup.path(cgroupsPath: linux.cgroupsPath, containerID: id.value))

        _ = try store.claim(id)
        var cleanup = Cleanup(store: store, id: id)
        defer { cleanup.run() }

        var record = ContainerRecord(
            id: id.value, bundle: bundle.path, rootfs: bundle.rootfs, pid: 0, pidStartTime: 0,
            created: Timestamp.now(), owner: "", annotations: spec.annotations,
            cgroupMountPoint: mountPoint, cgroupPath: cgroup.path, hooks: spec.hooks, ociVersion: spec.ociVersion)
        try store.save(record)
        let fifoPath = store.fifo(id)
        try sys("mkfifo \(fifoPath)", mkfifo(fifoPath, 0o622))
        // In a user namespace the init reopens the FIFO as the container's
        // root, which must own it (as runc does).
        if let root = Self.hostRoot(linux) {
            try sys("chown \(fifoPath)", chown(fifoPath, root.uid, root.gid))
        }
        cleanup.cgroup = try cgroup.create(settings: settings) ? cgroup : nil

        let pid = try spawnInit(bundle: bundle, cgroup: cgroup, fifoPath: fifoPath, options: options,
                                record: &record, cleanup: &cleanup)
        if let pidFile = options.pidFile {
            try FileIO.writeAtomically(pidFile, Data("\(pid)".utf8))
        }
        cleanup.succeeded()
        return pid
    }

    private func spawnInit(bundle: Bundle, cgroup: Cgroup, fifoPath: String, options: CreateOptions,
                           record: inout ContainerRecord, cleanup: inout Cleanup) throws -> pid_t {
        let spec = bundle.spec
        let namespaces = spec.linux?.namespaces ?? []
        let (channel, childEnd) = try InitChannel.pair()
        defer { channel.close() }
        let fifoFD = open(fifoPath, 0o10000000 /* O_PATH */)
        guard fifoFD >= 0 else { throw SystemError("open \(fifoPath)") }
        var consoleFD: Int32 = -1
        if spec.process?.terminal == true, let socketPath = options.consoleSocket {
            consoleFD = try ConsoleSocket.connect(socketPath)
        }
        var namespaceFDs = try NamespaceFDs(namespaces)
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
            namespaceFDs.close()
        }
        defer { closeChildCopies() }

        var context = InitContext(socketFD: childEnd, fifoFD: fifoFD, bundle: bundle.path, rootfs: bundle.rootfs)
        context.consoleFD = consoleFD
        context.cgroupDirectory = cgroup.directory
        context.noPivot = options.noPivot
        context.preserveFDs = options.preserveFDs
        if !options.noNewKeyring { context.newKeyring = "_ses." + record.id }
        context.unshareCgroup = namespaces.contains { $0.type == .cgroup && $0.path == nil }
        let hooks = spec.hooks
        context.pauseForHooks = [hooks?.prestart, hooks?.createRuntime, hooks?.createContainer, hooks?.startContainer]
            .contains { !($0 ?? []).isEmpty }

        let executable = try FileIO.realPath("/proc/self/exe")
        var request = SpawnRequest(path: executable, arguments: ["vessel", "init"], environment: context.environment)
        let newUser = namespaces.contains { $0.type == .user && $0.path == nil }
        for namespace in namespaces where namespace.path == nil {
            request.cloneFlags |= Self.cloneFlags[namespace.type] ?? 0
        }
        request.joinNamespaceFDs = namespaceFDs.ordered
        request.joinPIDNamespaceFD = namespaceFDs.pid
        request.syncFD = childEnd
        request.becomeRoot = newUser
        request.protectExecutable = namespaces.contains { $0.type == .mount && $0.path == nil }

        let (pid, inCgroup) = try Spawner.spawn(request, into: cgroup)
        closeChildCopies()
        cleanup.pid = pid
        record.pid = pid
        record.pidStartTime = ProcessStat(pid: pid)?.startTime ?? 0
        try store.save(record)
        if newUser { try writeIDMappings(pid: pid, linux: spec.linux ?? LinuxConfig()) }
        if !inCgroup { try cgroup.addProcess(pid) }
        channel.send(.proceed("go"))

        while true {
            switch channel.receive() {
            case .mounted?:
                let state = try record.stateJSON(status: .creating)
                try HookRunner.run(hooks?.prestart ?? [], kind: "prestart", state: state)
                try HookRunner.run(hooks?.createRuntime ?? [], kind: "createRuntime", state: state)
                channel.send(.proceed(state))
            case .ready?:
                return pid
            case let .failed(text)?:
                throw RuntimeError.initFailed(text)
            case .proceed?:
                throw RuntimeError.initFailed("container init sent an unexpected message")
            case nil:
                let status = Spawner.wait(pid)
                cleanup.pid = nil
                throw RuntimeError.initFailed(Self.describeEarlyExit(status))
            }
        }
    }

    static func describeEarlyExit(_ status: Int32) -> String {
        let code = Spawner.exitCode(fromWaitStatus: status)
        switch code {
        case 124: return "container init could not become root in its user namespace"
        case 125: return "container init could not protect the vessel binary (read-only bind mount failed)"
        case 126: return "container init could not join a namespace given in linux.namespaces[].path"
        default: return "container init exited during set-up with status \(code)"
        }
    }

    func writeIDMappings(pid: pid_t, linux: LinuxConfig) throws {
        func lines(_ maps: [IDMapping]) -> String {
            maps.map { "\($0.containerID) \($0.hostID) \($0.size)\n" }.joined()
        }
        do {
            try FileIO.write("/proc/\(pid)/uid_map", lines(linux.uidMappings ?? []))
        } catch {
            throw SetupError("config.json: linux.uidMappings: \(error)")
        }
        do {
            try FileIO.write("/proc/\(pid)/gid_map", lines(linux.gidMappings ?? []))
        } catch {
            throw SetupError("config.json: linux.gidMappings: \(error)")
        }
    }

    func reportWarnings(_ spec: Spec) {
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
        // A lone deny-all rule (runc's default) matches what vessel does; any
        // other rule is one it cannot enforce, and the operator must know.
        let rules = spec.linux?.resources?.devices ?? []
        let denyAllOnly = rules.allSatisfy { !$0.allow && $0.type == nil && $0.major == nil && $0.minor == nil }
        if !denyAllOnly {
            warn("config.json: linux.resources.devices: the cgroup v2 device filter (eBPF) is not implemented; the container sees only the device nodes vessel creates in /dev")
        }
    }
}

/// Undoes a partial `create` unless it succeeded.
struct Cleanup {
    let store: StateStore
    let id: ContainerID
    var pid: pid_t?
    var cgroup: Cgroup?
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
        cgroup?.destroy()
        store.remove(id)
    }
}
