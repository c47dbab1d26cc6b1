import Errors
import FoundationEssentials
import Glibc
import Linux
import OSKit
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
    /// --cgroup: a sub-cgroup of the container's to run the process in.
    public var cgroups: [String] = []
    /// --exec-wait-fifo (later runc): the process has started when `exec`
    /// returns, and execs its program once the fifo's read end is opened.
    public var execWaitFifo: String?
    public init() {}
}

// `exec`: checks the container's state, builds the process from the
// container's and the command line's settings, and has the container's
// backend start it.
public struct ProcessExecutor {
    let store: StateStore

    public init(store: StateStore) { self.store = store }

    public func exec(_ id: ContainerID, options: ExecOptions) throws -> pid_t {
        let record = try store.load(id)
        let status = store.status(of: record)
        if status == .paused && !options.ignorePaused {
            throw VesselError.invalidArgument("cannot exec in a paused container \(id.value) (use --ignore-paused to override)")
        }
        guard status == .running || status == .created || status == .paused else {
            throw VesselError.wrongState(id: id.value, operation: "exec in", status: status.rawValue)
        }
        // What create decided; a record from before kept none, so read the bundle then.
        let (base, seccomp): (Process?, Seccomp?)
        if record.process != nil {
            (base, seccomp) = (record.process, record.seccomp)
        } else {
            let spec = try SpecLoader.decode(FileIO.readData(record.bundle + "/config.json"), path: record.bundle + "/config.json")
            (base, seccomp) = (spec.process, spec.linux?.seccomp)
        }
        let process = try makeProcess(base, options)
        try PreservedFDs.check(options.preserveFDs)
        for entry in process.env ?? [] {
            if let problem = EnvironmentEntry.problem(entry) { throw VesselError.invalidArgument("exec: invalid environment variable: \(problem)") }
        }
        // Detached here: a foreground `exec -t` hands over its session's socket.
        try ConsoleSocketRule.check(detached: true, terminal: process.terminal == true, consoleSocket: options.consoleSocket)
        DebugTrace.step("exec \(id.value): \(process.args ?? []) as uid \(process.user.uid) in the namespaces of init pid \(record.pid)")
        let pid = try record.backend(in: store).exec(record, process: process, seccomp: seccomp, options: options)
        DebugTrace.step("exec \(id.value): the process runs as pid \(pid)")
        if let pidFile = options.pidFile { try PidFile.write(pidFile, pid: pid) }
        return pid
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
        if let cwd = options.cwd {
            // runc refuses a relative one too: relative to what would be a guess.
            guard cwd.hasPrefix("/") else { throw VesselError.invalidArgument("--cwd \(cwd.debugDescription) is not an absolute path") }
            process.cwd = cwd
        }
        process.env = (process.env ?? []) + options.env
        if let user = options.user {
            // ":1000" has an empty uid: refused, as runc does.
            let parts = user.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
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
