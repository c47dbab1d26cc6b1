import Errors
import FoundationEssentials
import Glibc
import Linux
import OCI

/// `vessel exec` flags that shape the new process; nil means "as the
/// container's config.json says".
public struct ExecOptions {
    public var processFile: String?
    public var arguments: [String] = []
    public var terminal = false
    public var consoleSocket: String?
    public var cwd: String?
    public var env: [String] = []
    public var user: String?
    public var additionalGids: [UInt32] = []
    public var capabilities: [String] = []
    public var noNewPrivileges = false
    public var preserveFDs = 0
    public var pidFile: String?
    /// --ignore-paused: exec into a paused container (the process starts frozen).
    public var ignorePaused = false
    public init() {}
}

// Starts a process inside a running container: every namespace of its init
// and its cgroup, with its capabilities, seccomp and rlimits unless told
// otherwise. The process is our child, so `exec` can wait for it.
public struct ProcessExecutor {
    let store: StateStore

    public init(store: StateStore) { self.store = store }

    /// Namespaces the C shim joins before exec, user first. The mount
    /// namespace is joined by the exec'd vessel itself, once its libraries
    /// are loaded from the host (the container has none of them).
    static let joinOrder = ["user", "ipc", "uts", "net", "cgroup", "time"]

    public func exec(_ id: ContainerID, options: ExecOptions) throws -> pid_t {
        let record = try store.load(id)
        let status = store.status(of: record)
        if status == .paused && !options.ignorePaused {
            throw VesselError.invalidArgument("cannot exec in a paused container \(id.value) (use --ignore-paused to override)")
        }
        guard status == .running || status == .created || status == .paused else {
            throw VesselError.wrongState(id: id.value, operation: "exec in", status: status.rawValue)
        }
        let spec = try SpecLoader.decode(FileIO.readData(record.bundle + "/config.json"), path: record.bundle + "/config.json")
        let process = try makeProcess(spec.process, options)
        if process.terminal == true && options.consoleSocket == nil {
            throw VesselError.invalidArgument("exec: a terminal for a detached process needs --console-socket")
        }
        if record.vm != nil { return try execInVM(id, process: process, options: options) }
        var plan = ExecPlan(process: process, seccomp: spec.linux?.seccomp, preserveFDs: options.preserveFDs)

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
        plan.consoleFD = consoleFD
        plan.mountNamespaceFD = mountNamespace
        let executable = try FileIO.realPath("/proc/self/exe")
        var request = SpawnRequest(path: executable, arguments: ["vessel", "init"], environment: [InitSocket.environment(childEnd)])
        request.joinNamespaces = joined.map { (fd: $0, type: 0) }
        request.joinPIDNamespaceFD = pidNamespace
        request.syncFD = childEnd
        request.becomeRoot = joinsUser
        request.protectThenJoin = true
        let cgroup = record.cgroup.flatMap { $0.exists ? $0 : nil }
        let (pid, inCgroup) = try Spawner.spawn(request, into: cgroup)
        // Only the child holds its end now: EOF means it exec'd (or died).
        close(childEnd)
        childEndOpen = false
        let peer = InitPeer(channel: channel, subject: "exec'd process")
        do {
            try peer.beforeHandoff {
                if let cgroup, !inCgroup { try cgroup.addProcess(pid) }
            }
            peer.handOff(.exec(plan))
            if try peer.next() != nil {
                throw VesselError.initFailed("exec: unexpected message from the new process")
            }
        } catch {
            // Killed here, so its exit status says nothing: the error does.
            kill(pid, SIGKILL)
            _ = Spawner.wait(pid)
            throw error
        }
        if let pidFile = options.pidFile { try FileIO.writeAtomically(pidFile, Data("\(pid)".utf8)) }
        return pid
    }

    /// Starts the relay that runs the process in the guest; returns its pid
    /// once the process runs there.
    func execInVM(_ id: ContainerID, process: Process, options: ExecOptions) throws -> pid_t {
        if options.preserveFDs > 0 { throw VesselError.unsupported("vm: --preserve-fds: open files cannot be passed into a VM") }
        let directory = store.directory(id)
        let processFile = directory + "/exec-\(getpid()).json"
        try FileIO.writeAtomically(processFile, try JSONEncoder().encode(process))
        let executable = try FileIO.realPath("/proc/self/exe")
        let request = SpawnRequest(path: executable, arguments: ["vessel", "vm-exec", directory, id.value, processFile] + (options.consoleSocket.map { [$0] } ?? []),
                                   environment: [])
        let pid: pid_t, report: StartReport?
        do {
            (pid, report) = try StartReport.spawn(request, timeoutSeconds: 60)
        } catch {
            unlink(processFile)
            throw error
        }
        guard case .started? = report else {
            kill(pid, SIGKILL)
            _ = Spawner.wait(pid)
            unlink(processFile)
            throw VesselError.initFailed(StartReport.failure(report, otherwise: "vm: exec relay ended without a report"))
        }
        if let pidFile = options.pidFile { try FileIO.writeAtomically(pidFile, Data("\(pid)".utf8)) }
        return pid
    }

    /// Whether the container's init is in another namespace of this kind.
    static func differs(pid: Int32, _ name: String) -> Bool {
        let theirs = try? FileIO.readLink("/proc/\(pid)/ns/\(name)")
        let ours = try? FileIO.readLink("/proc/self/ns/\(name)")
        return theirs != nil && theirs != ours
    }

    /// Whether `exec` with these options gives the process a terminal.
    public static func wantsTerminal(_ options: ExecOptions) -> Bool {
        if options.terminal { return true }
        guard let file = options.processFile, let data = try? FileIO.readData(file) else { return false }
        return (try? JSONDecoder().decode(Process.self, from: data))?.terminal == true
    }

    func makeProcess(_ base: Process?, _ options: ExecOptions) throws -> Process {
        if let file = options.processFile {
            let data: Data
            do { data = try FileIO.readData(file) } catch { throw VesselError.unreadable(path: file, reason: "\(error.reason)") }
            do {
                return try JSONDecoder().decode(Process.self, from: data)
            } catch let error as DecodingError {
                throw VesselError.invalidArgument("\(file): " + "\(SpecLoader.describe(error, path: file))".replacingPrefix("config.json: ", with: ""))
            }
        }
        guard !options.arguments.isEmpty else { throw VesselError.invalidArgument("exec: give the command to run, or --process") }
        var process = base ?? Process(args: nil)
        process.args = options.arguments
        process.terminal = options.terminal
        process.consoleSize = nil
        if let cwd = options.cwd { process.cwd = cwd }
        process.env = (process.env ?? []) + options.env
        if let user = options.user {
            let parts = user.split(separator: ":", maxSplits: 1)
            guard let uid = parts.first.flatMap({ UInt32($0) }) else {
                throw VesselError.invalidArgument("--user \(user.debugDescription): expected uid[:gid] as numbers")
            }
            process.user.uid = uid
            if parts.count > 1 {
                guard let gid = UInt32(parts[1]) else {
                    throw VesselError.invalidArgument("--user \(user.debugDescription): expected uid[:gid] as numbers")
                }
                process.user.gid = gid
            }
        }
        if !options.additionalGids.isEmpty { process.user.additionalGids = options.additionalGids }
        if !options.capabilities.isEmpty {
            var caps = process.capabilities ?? Capabilities()
            for cap in options.capabilities {
                for keyPath in [\Capabilities.bounding, \.effective, \.permitted] where !(caps[keyPath: keyPath] ?? []).contains(cap) {
                    caps[keyPath: keyPath] = (caps[keyPath: keyPath] ?? []) + [cap]
                }
            }
            process.capabilities = caps
        }
        if options.noNewPrivileges { process.noNewPrivileges = true }
        return process
    }
}

extension String {
    public func replacingPrefix(_ prefix: String, with replacement: String) -> String {
        hasPrefix(prefix) ? replacement + dropFirst(prefix.count) : self
    }
}
