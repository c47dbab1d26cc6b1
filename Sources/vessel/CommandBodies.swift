import Errors
import FoundationEssentials
import Glibc
import Linux
import OSKit
import MicroVM
import OCI
import Runtime
import Synchronization

// One grammar for the commands engines call most: whichever parser read
// the command line (ArgumentParser in Commands/, or FastPath), it produces
// a `GlobalSettings` and an `Invocation`, and `execute` does the work. There
// is one body per command, here.

/// The global flags, however they were parsed.
struct GlobalSettings {
    /// --root; nil: StateRoot's default (a user's own directory when rootless).
    var root: String?
    var log: String?
    var logFormat: LogFormat = .text
    var debug = false
    var systemdCgroup = false
    /// --vm or the name vessel-vm.
    var vm = false
    var vmSettings = VMSettings()

    /// The state store under --root or the default root.
    /// The state root, made (0700) when missing, as runc makes it for
    /// every command; one that is not a directory is an error.
    func store() throws -> StateStore {
        let path = try root ?? StateRoot.resolve()
        try FileIO.makeDirectories(path, mode: 0o700)
        return StateStore(root: path)
    }
}

/// A parsed command.
enum Invocation {
    case create(id: String, CreateOptions)
    case start(id: String)
    case state(id: String)
    case kill(id: String, signal: String, all: Bool)
    case delete(id: String, force: Bool)
    case run(id: String, CreateOptions, detach: Bool, keep: Bool)
    case exec(id: String, ExecOptions, detach: Bool)
}

/// Runs `invocation` and returns the exit status.
func execute(_ invocation: Invocation, _ global: GlobalSettings) -> Int32 {
    // runc's exec exits 255 when the process could not be started, so a
    // caller can tell that from the process's own status 1.
    if case .exec = invocation { return perform(global, failure: 255) { try body(of: invocation, global) } }
    return perform(global) { try body(of: invocation, global) }
}

/// Shared by every command: logging set-up, the refusals of what vessel
/// does not support, and one error line with exit status 1 on failure.
func perform(_ global: GlobalSettings, failure: Int32 = 1, _ body: () throws -> Int32) -> Int32 {
    Log.configure(log: global.log, format: global.logFormat, debug: global.debug)
    do {
        if global.systemdCgroup {
            throw VesselError.unsupported("--systemd-cgroup is not supported: vessel manages cgroup v2 directly (cgroupfs)")
        }
        return try body()
    } catch {
        Log.logger.error("\(error)")
        return failure
    }
}

private func body(of invocation: Invocation, _ global: GlobalSettings) throws -> Int32 {
    let store = try global.store()
    let lifecycle = Lifecycle(store: store) { Log.logger.warning("\($0)") }
    switch invocation {
    case let .create(id, options):
        let id = try containerID(id)
        let bundle = try ContainerCreator.loadBundle(options.bundle)
        try ConsoleSocketRule.check(detached: true, terminal: bundle.spec.process?.terminal == true, consoleSocket: options.consoleSocket)
        _ = try createContainer(global, id, options, store: store, bundle: bundle)
    case let .start(id):
        try lifecycle.start(containerID(id))
    case let .state(id):
        print(GoStyleJSON.indented(try lifecycle.report(containerID(id)).runcJSON, by: "  "))
    case let .kill(id, signal, all):
        guard let number = SignalName.parse(signal) else {
            throw VesselError.invalidArgument("unknown signal \(signal.debugDescription)")
        }
        try lifecycle.kill(containerID(id), signal: number, all: all)
    case let .delete(id, force):
        let id = try containerID(id)
        do {
            try lifecycle.delete(id, force: force)
        } catch let error as VesselError where error.kind == .notFound && force {
            return 0
        }
    case let .run(id, options, detach, keep):
        let id = try containerID(id)
        var options = options
        let bundle = try ContainerCreator.loadBundle(options.bundle)
        try ConsoleSocketRule.check(detached: detach, terminal: bundle.spec.process?.terminal == true, consoleSocket: options.consoleSocket)
        options.startsAtOnce = true
        // A terminal without --console-socket: vessel holds the pty itself.
        let session = !detach && options.consoleSocket == nil && bundle.spec.process?.terminal == true ? try TerminalSession() : nil
        if let session { options.consoleSocket = session.socketPath }
        let (pid, record) = try createContainer(global, id, options, store: store, bundle: bundle)
        let master: Int32?
        do {
            master = try session?.receiveMaster()
            try lifecycle.start(id, saved: record)
        } catch {
            try? lifecycle.delete(id, force: true)
            throw error
        }
        if detach { return 0 }
        forwardSignals(to: pid)
        if let session, let master { session.relay(master: master, until: pid) }
        let exitCode = Spawner.exitCode(fromWaitStatus: Spawner.wait(pid))
        if !keep { try lifecycle.delete(id, force: true, saved: record) }
        return exitCode
    case let .exec(id, options, detach):
        var options = options
        let terminal = ProcessExecutor.wantsTerminal(options)
        try ConsoleSocketRule.check(detached: detach, terminal: terminal, consoleSocket: options.consoleSocket)
        let session = !detach && options.consoleSocket == nil && terminal ? try TerminalSession() : nil
        if let session { options.consoleSocket = session.socketPath }
        let executor = ProcessExecutor(store: store)
        let pid = try executor.exec(containerID(id), options: options)
        if detach { return 0 }
        forwardSignals(to: pid)
        if let session {
            do {
                session.relay(master: try session.receiveMaster(), until: pid)
            } catch {
                kill(pid, SIGKILL)
                _ = Spawner.wait(pid)
                throw error
            }
        }
        return Spawner.exitCode(fromWaitStatus: Spawner.wait(pid))
    }
    return 0
}

func containerID(_ text: String) throws -> ContainerID {
    do {
        return try ContainerID(text)
    } catch {
        throw VesselError.invalidArgument(error.description)
    }
}

/// `create`, in namespaces or (--vm, vessel-vm, or the bundle's
/// org.vessel.isolation=vm annotation) in a microVM; returns the host pid,
/// and for the namespace backend the record it saved (`run` goes on with it).
/// config.json is decoded once, for the choice of backend and the backend.
func createContainer(
    _ global: GlobalSettings, _ id: ContainerID, _ options: CreateOptions, store: StateStore,
    bundle loaded: ContainerCreator.Bundle? = nil
) throws -> (pid: pid_t, record: ContainerRecord?) {
    var options = options
    options.vm = options.vm || global.vm
    let bundle = try loaded ?? ContainerCreator.loadBundle(options.bundle)
    guard VMCreator.wanted(options, spec: bundle.spec) else {
        let created = try ContainerCreator(store: store) { Log.logger.warning("\($0)") }
            .createWithRecord(id: id, options: options, bundle: bundle)
        return (created.pid, created.record)
    }
    options.vmSettings = global.vmSettings
    let creator = VMCreator(
        store: store, settings: options.vmSettings,
        info: { Log.logger.info("\($0)") }, warn: { Log.logger.warning("\($0)") })
    return (try creator.create(id: id, options: options, bundle: bundle), nil)
}

/// Prints `value` as runc prints JSON: indented like Go's MarshalIndent,
/// or compact (`indent: nil`).
func printJSON<T: Encodable>(_ value: T, indent: String? = "  ") throws {
    print(try GoStyleJSON.encode(value, indent: indent))
}

/// The init's pid, for the signal forwarder (a C handler cannot capture);
/// atomic, as a handler may read it on any thread.
let forwardedPID = Atomic<pid_t>(0)

/// Signals sent to `vessel run` or `vessel exec` go on to the process, as with runc.
func forwardSignals(to pid: pid_t) {
    forwardedPID.store(pid, ordering: .sequentiallyConsistent)
    for signal in [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH] {
        Glibc.signal(signal) { received in kill(forwardedPID.load(ordering: .sequentiallyConsistent), received) }
    }
}
