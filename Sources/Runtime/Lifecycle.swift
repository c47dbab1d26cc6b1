import Errors
import CVessel
import FoundationEssentials
import Glibc
import Linux
import OSKit
import MicroVM
import OCI

// start, state, kill, delete and list on containers in the state store.
public struct Lifecycle {
    public let store: StateStore
    let warn: (String) -> Void

    public init(store: StateStore, warn: @escaping (String) -> Void) {
        self.store = store
        self.warn = warn
    }

    public struct StateReport: Codable {
        public var ociVersion: String
        public var id: String
        public var pid: Int32
        public var status: ContainerStatus
        public var bundle: String
        public var rootfs: String
        public var created: String
        public var owner: String
        public var annotations: [String: String]?
    }

    /// `withOwner`: as runc, `list` names the state directory's owner and
    /// `state` leaves the field empty.
    public func report(_ id: ContainerID, withOwner: Bool = false) throws -> StateReport {
        let record = try store.load(id)
        let status = store.status(of: record)
        var annotations = record.annotations
        let added = record.backend(in: store).stateAnnotations(of: record)
        if !added.isEmpty { annotations = (annotations ?? [:]).merging(added) { _, ours in ours } }
        return StateReport(
            ociVersion: record.ociVersion, id: record.id, pid: status == .stopped ? 0 : record.pid,
            status: status, bundle: record.bundle, rootfs: record.rootfs, created: record.created,
            owner: record.owner.isEmpty && withOwner ? Self.owner(of: store.directory(id)) : record.owner,
            annotations: annotations)
    }

    /// Every container that reports; each one that does not (a corrupt
    /// state.json) is one `warn` line, so the others still list.
    /// As runc: the name of the user owning the container's state directory.
    static func owner(of directory: String) -> String {
        var info = stat()
        guard stat(directory, &info) == 0 else { return "" }
        guard let entry = getpwuid(info.st_uid), let name = entry.pointee.pw_name else { return "\(info.st_uid)" }
        return String(cString: name)
    }

    public func list() -> [StateReport] {
        store.ids().compactMap { name in
            guard let id = try? ContainerID(name) else { return nil }
            do {
                return try report(id, withOwner: true)
            } catch let error as VesselError where error.kind == .notFound {
                return nil  // deleted since the directory was listed
            } catch {
                warn("\(error)")
                return nil
            }
        }
    }

    /// Releases the init blocked on the exec FIFO, then runs poststart hooks.
    /// `saved`: the record this process has just saved (`run`), used as it
    /// is instead of reading state.json back.
    public func start(_ id: ContainerID, saved: ContainerRecord? = nil) throws {
        let lock = try store.lock(id)
        defer { close(lock) }
        let record = try saved ?? store.load(id)
        let status = store.status(of: record)
        guard status == .created else { throw VesselError.wrongState(id: id.value, operation: "start", status: status.rawValue) }
        DebugTrace.step("start \(id.value): init pid \(record.pid), status \(status.rawValue)")
        try record.backend(in: store).start(record)
        DebugTrace.step("start \(id.value): the process runs")
        try runLoggingFailures(record.hooks?.poststart, kind: "poststart", record: record, status: .running, directory: record.bundle)
    }

    public func kill(_ id: ContainerID, signal: Int32, all: Bool) throws {
        let lock = try store.lock(id)
        defer { close(lock) }
        let record = try store.load(id)
        let status = store.status(of: record)
        // As later runc: without a pid namespace of its own, killing the
        // init does not take the others along, so KILL goes to every
        // process of the container's own cgroup (those an init that
        // already died left too).
        let all = all || (signal == SIGKILL && record.sharesPIDNamespace == true && record.vm == nil && record.ownsCgroup != false && record.cgroup != nil)
        // As runc: signalling every process of a container that has none
        // left succeeds (engines send it while stopping a pod).
        if all && status == .stopped && !(record.cgroup?.isPopulated ?? false) {
            DebugTrace.step("kill \(id.value): stopped and its cgroup is empty: nothing to signal")
            return
        }
        DebugTrace.step("kill \(id.value): signal \(signal) to \(all ? "every process of the container" : "init pid \(record.pid)"), status \(status.rawValue)")
        try record.backend(in: store).kill(record, signal: signal, all: all, status: status)
    }

    /// Removes a stopped or created container; --force kills it in any state,
    /// and removes a container whose state.json is corrupt. Only what is
    /// verifiably the container's is killed or removed (VerifiedInit,
    /// StateStore.release).
    /// `saved` as in `start`.
    public func delete(_ id: ContainerID, force: Bool, saved: ContainerRecord? = nil) throws {
        let lock = try store.lock(id)
        defer { close(lock) }
        let record: ContainerRecord
        do {
            record = try saved ?? store.load(id)
        } catch let error as VesselError where error.kind == .corruptState {
            let reason = error.message
            guard force else { throw VesselError.corruptState(id: id.value, reason: reason + " (delete --force removes it)") }
            warn("container \(id.value): \(reason): deleting it; only what it still names that is the container's is killed")
            record = store.salvage(id)
        }
        let status = store.status(of: record)
        DebugTrace.step("delete \(id.value): status \(status.rawValue)\(force ? ", forced" : "")")
        switch status {
        case .stopped, .created:
            break
        case .creating where force, .running where force, .paused where force:
            break
        default:
            throw VesselError.wrongState(id: id.value, operation: "delete", status: "\(status.rawValue) (use --force)")
        }
        // A VM's supervisor may still be draining output after the container
        // stopped: it goes too, and QEMU with it (PDEATHSIG).
        // No waiting on a process that is not provably the container's.
        var foreign = false
        do {
            try VerifiedInit.open(record, directory: store.directory(id), backend: record.backend(in: store))?.signal(SIGKILL)
        } catch {
            foreign = true
            warn("\(error)")
        }
        if let cgroup = record.cgroup {
            DebugTrace.step("delete \(id.value): releasing cgroup \(cgroup.directory)")
            store.release(cgroup, of: id, owned: record.ownsCgroup ?? true, warn: warn)
        }
        if !foreign { waitUntilGone(record) }
        if !foreign { record.backend(in: store).awaitTeardown(record) }
        store.remove(id)
        DebugTrace.step("delete \(id.value): state directory removed")
        // In the caller's directory: runc's `delete` has no bundle to enter,
        // and the bundle may be gone by now.
        try runLoggingFailures(record.hooks?.poststop, kind: "poststop", record: record, status: .stopped, directory: nil)
    }

    /// poststart and poststop hooks: the spec says a failure is logged and
    /// the operation goes on.
    func runLoggingFailures(
        _ hooks: [Hook]?, kind: String, record: ContainerRecord, status: ContainerStatus,
        directory: String?
    ) throws {
        guard let hooks, !hooks.isEmpty else { return }
        let state = try record.stateJSON(status: status)
        do {
            try HookRunner.run(hooks, kind: kind, state: state, directory: directory)
        } catch {
            warn("\(error)")
        }
    }

    /// Bounded wait for the init to be gone (or a zombie for its parent).
    func waitUntilGone(_ record: ContainerRecord) {
        guard record.pid > 0 else { return }
        for _ in 0..<2000 {
            if !ProcessStat.isAlive(pid: record.pid, startTime: record.pidStartTime) { return }
            usleep(1000)
        }
    }
}

extension Lifecycle {
    public func setPaused(_ id: ContainerID, _ paused: Bool) throws {
        let lock = try store.lock(id)
        defer { close(lock) }
        let record = try store.load(id)
        let status = store.status(of: record)
        // As runc: a created container pauses too, and resumes to created.
        let allowed: Set<ContainerStatus> = paused ? [.running, .created] : [.paused]
        guard allowed.contains(status) else {
            throw VesselError.wrongState(id: id.value, operation: paused ? "pause" : "resume", status: status.rawValue)
        }
        try record.backend(in: store).setPaused(record, paused)
    }

    public func processes(_ id: ContainerID) throws -> [Int32] {
        let record = try store.load(id)
        return try record.backend(in: store).processes(record, status: store.status(of: record))
    }
}

extension Lifecycle {
    /// `update`: new limits written to the running container's cgroup; a
    /// controller the host lacks is an error naming it, as in `create`.
    /// New device rules replace the device filter (with linux.devices and
    /// the defaults still allowed, as in `create`).
    public func update(_ id: ContainerID, resources: Resources) throws {
        let lock = try store.lock(id)
        defer { close(lock) }
        let record = try store.load(id)
        try record.backend(in: store).update(record, resources: resources, status: store.status(of: record))
    }
}
