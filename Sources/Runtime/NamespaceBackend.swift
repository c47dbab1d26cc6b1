import CVessel
import Errors
import FoundationEssentials
import Glibc
import Linux
import OSKit
import OCI

// The namespace backend: the container is a process tree in its own
// namespaces and cgroup on this kernel. Its init waits on the exec FIFO
// until `start`; pause is cgroup.freeze; exec joins the init's namespaces.
struct NamespaceBackend: ContainerBackend {
    let store: StateStore

    /// Namespaces the C shim joins before exec, user first. The mount
    /// namespace is joined by the exec'd vessel itself, once its libraries
    /// are loaded from the host (the container has none of them).
    static let joinOrder = ["user", "ipc", "uts", "net", "cgroup", "time"]

    func liveStatus(of record: ContainerRecord) -> ContainerStatus {
        guard let id = try? ContainerID(record.id) else { return .stopped }
        // Frozen first, as runc: a created container can be paused too.
        if let cgroup = record.cgroup, cgroup.isFrozen { return .paused }
        if FileIO.exists(store.fifo(id)) { return .created }
        return .running
    }

    func stateAnnotations(of record: ContainerRecord) -> [String: String] { [:] }

    /// Opens the exec FIFO: the init writes one byte after the
    /// startContainer hooks, and its end closes at execve; `start` returns
    /// then, watching that the init stays alive meanwhile.
    func start(_ record: ContainerRecord) throws {
        let id = try ContainerID(record.id)
        let fifoPath = store.fifo(id)
        let fd = open(fifoPath, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw VesselError.system("open \(fifoPath)") }
        defer { close(fd) }
        // The init writes one byte after the startContainer hooks, and its end
        // closes at execve; watch that it stays alive meanwhile.
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        var gotByte = false
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let ready = poll(&poller, 1, 100)
            if ready > 0 {
                let count = read(fd, &buffer, buffer.count)
                if count > 0, !gotByte {
                    switch ExecFifoSignal.decode(buffer[0..<count]) {
                    case let .failed(reason)?:
                        unlink(fifoPath)
                        throw VesselError.initFailed(reason)
                    case .started?: gotByte = true
                    case nil: break
                    }
                }
                if count == 0 && gotByte { break }
            }
            if !ProcessStat.isAlive(pid: record.pid, startTime: record.pidStartTime) {
                unlink(fifoPath)
                if gotByte { break }
                throw VesselError.initFailed("container \(record.id) exited before it could be started")
            }
        }
        unlink(fifoPath)
    }

    /// With `all`, every process in the cgroup, whatever the init's state
    /// (the leftovers of a stopped one too).
    func kill(_ record: ContainerRecord, signal: Int32, all: Bool, status: ContainerStatus) throws {
        if all, let cgroup = record.cgroup, cgroup.exists {
            if status == .paused && signal != SIGKILL { try? cgroup.setFrozen(false) }
            cgroup.killAll(signal: signal)
            return
        }
        // Without a cgroup, its own pid namespace lists the container.
        if all, record.cgroupPath == nil, let mark = record.initNamespace, status.isLive,
            ProcessStat.isAlive(pid: record.pid, startTime: record.pidStartTime)
        {
            let members = InitNamespace.members(of: mark, initPID: record.pid)
            if !members.isEmpty {
                members.forEach { _ = Glibc.kill($0, signal) }
                return
            }
        }
        guard status.isLive else { throw VesselError.notRunning(id: record.id, status: status.rawValue) }
        guard let initProcess = try VerifiedInit.open(record, directory: store.directory(try ContainerID(record.id)), backend: self) else {
            throw VesselError.notRunning(id: record.id, status: "stopped")
        }
        try initProcess.signal(signal)
    }

    func setPaused(_ record: ContainerRecord, _ paused: Bool) throws {
        try cgroup(of: record, for: paused ? "pause" : "resume").setFrozen(paused)
    }

    /// The container's cgroup, for what only a cgroup can do; a rootless
    /// container may have none.
    func cgroup(of record: ContainerRecord, for operation: String) throws -> Cgroup {
        guard let cgroup = record.cgroup else {
            let why = record.cgroupPath == nil ? "rootless, with no cgroup v2 subtree delegated to its user" : "its cgroup is not a container's"
            throw VesselError.unsupported("cannot \(operation) container \(record.id): it has no cgroup (\(why))")
        }
        return cgroup
    }

    func processes(_ record: ContainerRecord, status: ContainerStatus) throws -> [Int32] {
        if let cgroup = record.cgroup { return cgroup.processes() }
        guard status.isLive, let mark = record.initNamespace,
            ProcessStat.isAlive(pid: record.pid, startTime: record.pidStartTime)
        else { return [] }
        let members = InitNamespace.members(of: mark, initPID: record.pid)
        return members.isEmpty && InitNamespace.holds(mark, pid: record.pid) ? [record.pid] : members
    }

    /// runc-shaped stats from the cgroup v2 files.
    func stats(_ record: ContainerRecord, status: ContainerStatus) throws -> StatsEvent {
        if status != .stopped { _ = try cgroup(of: record, for: "read stats of") }
        guard status != .stopped, let cgroup = record.cgroup, cgroup.exists else {
            throw VesselError.wrongState(id: record.id, operation: "read stats of", status: status.rawValue)
        }
        return StatsEvent(id: record.id, data: StatsData(cgroup: cgroup.directory))
    }

    /// New limits into the cgroup; new device rules replace the device
    /// filter (with linux.devices and the defaults still allowed).
    func update(_ record: ContainerRecord, resources: Resources, status: ContainerStatus) throws {
        if status != .stopped { _ = try cgroup(of: record, for: "update") }
        guard status != .stopped, let cgroup = record.cgroup, cgroup.exists else {
            throw VesselError.wrongState(id: record.id, operation: "update", status: status.rawValue)
        }
        let settings = try CgroupResources.settings(for: resources)
        let deviceFilter = try resources.devices.map { rules throws(VesselError) in
            try DeviceFilter(resources: rules, devices: record.devices ?? [])
        }
        _ = try cgroup.create(settings: settings)
        // Rootless has no device filter to replace (see ContainerCreator).
        if let deviceFilter, !Privileges.isRootless { try cgroup.setDeviceFilter(deviceFilter, replacing: true) }
    }

    /// Every namespace of the init, its cgroup, and the container's
    /// capabilities, seccomp and rlimits unless told otherwise; the process
    /// is our child, so `exec` can wait for it.
    func exec(_ record: ContainerRecord, process: Process, seccomp: Seccomp?, options: ExecOptions) throws -> pid_t {
        var plan = ExecPlan(process: process, seccomp: seccomp, preserveFDs: options.preserveFDs)
        if let path = options.execWaitFifo { plan.waitFifoFD = try ExecWaitFifo.open(path) }
        defer { if plan.waitFifoFD >= 0 { close(plan.waitFifoFD) } }

        let (channel, childEnd) = try InitSocket.pair()
        defer { channel.close() }
        var childEndOpen = true
        var consoleFD: Int32 = -1
        if process.terminal == true, let path = options.consoleSocket { consoleFD = try ConsoleSocket.connect(path) }
        var joined: [Int32] = []
        var pidNamespace: Int32 = -1
        defer {
            if childEndOpen { close(childEnd) }
            if consoleFD >= 0 { close(consoleFD) }
            joined.forEach { close($0) }
            if pidNamespace >= 0 { close(pidNamespace) }
        }
        var mountNamespace: Int32 = -1
        defer { if mountNamespace >= 0 { close(mountNamespace) } }
        if Self.differs(pid: record.pid, "mnt") {
            // Inherited across exec on purpose: no O_CLOEXEC.
            mountNamespace = open("/proc/\(record.pid)/ns/mnt", O_RDONLY)
            guard mountNamespace >= 0 else { throw VesselError.system("open /proc/\(record.pid)/ns/mnt") }
        }
        var joinsUser = false
        for name in Self.joinOrder + ["pid"] where Self.differs(pid: record.pid, name) {
            let path = "/proc/\(record.pid)/ns/\(name)"
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw VesselError.system("open \(path)") }
            if name == "pid" { pidNamespace = fd } else { joined.append(fd) }
            if name == "user" { joinsUser = true }
        }
        // Typed, so the shim joins it before the rest.
        let userType = joinsUser ? NamespaceType.user.cloneFlag : 0
        plan.consoleFD = consoleFD
        plan.mountNamespaceFD = mountNamespace
        let executable = try FileIO.realPath("/proc/self/exe")
        var request = SpawnRequest(path: executable, arguments: ["vessel", "init"], environment: [InitSocket.environment(childEnd)])
        request.joinNamespaces = joined.enumerated().map { (fd: $1, type: $0 == 0 ? userType : 0) }
        request.joinPIDNamespaceFD = pidNamespace
        // Only root enters the pid namespace from outside its user namespace.
        request.joinPIDNamespaceInChild = geteuid() != 0
        request.syncFD = childEnd
        request.becomeRoot = joinsUser
        request.protectThenJoin = true
        let cgroup = try ExecCgroup.choose(options.cgroups, container: record.cgroup, initPID: record.pid)
        var peer = InitPeer(channel: channel, subject: "exec'd process")
        let launch = InitLaunch.onThisHost(
            process: process, containerBounding: [record.process?.capabilities],
            hostUserNamespace: !joinsUser, writesOwnProc: false)
        let launcher = InitLauncher(request: request, launch: launch, childEnd: childEnd, cgroup: cgroup?.directory)
        var spawned: InitLauncher.Started?
        // A child that forks into the pid namespace reports its failure itself.
        try peer.beforeHandoff { spawned = try launcher.start(handoff: .exec(plan)) }
        guard let started = spawned else { throw VesselError.initFailed("exec: no process was spawned") }
        let (pid, inCgroup) = (started.pid, started.inCgroup)
        // Only the child holds its end now: EOF means it exec'd (or died).
        close(childEnd)
        childEndOpen = false
        do {
            try peer.beforeHandoff {
                if let cgroup, !inCgroup {
                    do throws(VesselError) { try cgroup.addProcess(pid) } catch { throw error.wrapped("error adding pid \(pid) to cgroups") }
                }
            }
            peer.handOff(started.inPlace ? .inPlace : .exec(plan))
            while let event = try peer.next() {
                // Waiting on --exec-wait-fifo: started, as far as `exec` can tell.
                if event == .ready && plan.waitFifoFD >= 0 { break }
                guard event == .lockingDown else { throw VesselError.initFailed("exec: unexpected message from the new process") }
            }
        } catch {
            // Killed here, so its exit status says nothing: the error does.
            Glibc.kill(pid, SIGKILL)
            _ = Spawner.wait(pid)
            throw error
        }
        return pid
    }

    /// Whether the container's init is in another namespace of this kind.
    static func differs(pid: Int32, _ name: String) -> Bool {
        let theirs = try? FileIO.readLink("/proc/\(pid)/ns/\(name)")
        let ours = try? FileIO.readLink("/proc/self/ns/\(name)")
        return theirs != nil && theirs != ours
    }

    /// The live init must be a member of the container's cgroup.
    func identityProblem(_ record: ContainerRecord) -> String? {
        let stateFile = store.root + "/" + record.id + "/state.json"
        if record.cgroupPath == nil, let mark = record.initNamespace {
            return InitNamespace.holds(mark, pid: record.pid)
                ? nil
                : "pid \(record.pid) in \(stateFile) is not in the container's namespace \(mark)"
        }
        guard let cgroup = record.cgroup else {
            let named = record.cgroupPath.map { "cgroup \($0.debugDescription) in \(record.cgroupMountPoint ?? "(no mount)")" }
            return "\(stateFile) names \(named ?? "no cgroup"), which cannot be a container's"
        }
        let text = (try? FileIO.read("/proc/\(record.pid)/cgroup")) ?? ""
        let member = text.split(separator: "\n").contains { line in
            guard line.hasPrefix("0::") else { return false }
            let path = line.dropFirst(3)
            return path == cgroup.path || path.hasPrefix(cgroup.path + "/")
        }
        return member ? nil : "pid \(record.pid) in \(stateFile) is not in the container's cgroup \(cgroup.directory)"
    }

    func awaitTeardown(_ record: ContainerRecord) {}
}
