import Errors
import Glibc
import Linux
import OSKit
import OCI

// What differs between vessel's two isolation backends, as one protocol.
// Lifecycle and ProcessExecutor do what is common (state checks, locks,
// hooks, the state store) and ask the container's backend for the rest;
// the backend is chosen once, from the record (`ContainerRecord.backend`).
// A new backend capability touches this file and one file per backend.
protocol ContainerBackend {
    /// The status while the init (or VM supervisor) is alive.
    func liveStatus(of record: ContainerRecord) -> ContainerStatus
    /// Annotations `state` adds to the config's.
    func stateAnnotations(of record: ContainerRecord) -> [String: String]
    /// Releases a created container's process.
    func start(_ record: ContainerRecord) throws
    /// Signals the container's process, or with `all` every process of it;
    /// "container not running" when there is none to signal.
    func kill(_ record: ContainerRecord, signal: Int32, all: Bool, status: ContainerStatus) throws
    func setPaused(_ record: ContainerRecord, _ paused: Bool) throws
    func processes(_ record: ContainerRecord, status: ContainerStatus) throws -> [Int32]
    func stats(_ record: ContainerRecord, status: ContainerStatus) throws -> StatsEvent
    func update(_ record: ContainerRecord, resources: Resources, status: ContainerStatus) throws
    /// Starts `process` in the running container; returns a pid to wait for.
    func exec(_ record: ContainerRecord, process: Process, seccomp: Seccomp?, options: ExecOptions) throws -> pid_t
    /// Why the live process `record.pid` is not provably the container's
    /// (nil when it is): a stale or forged state.json must not aim a signal
    /// at a host process.
    func identityProblem(_ record: ContainerRecord) -> String?
    /// After `delete` signalled the init: waits (bounded) for what the
    /// backend leaves running to be gone.
    func awaitTeardown(_ record: ContainerRecord)
}

extension ContainerStatus {
    /// Whether a process of the container may still run.
    var isLive: Bool { self == .created || self == .running || self == .paused }
}

extension ContainerRecord {
    /// This container's backend: chosen here, once, for every operation.
    func backend(in store: StateStore) -> any ContainerBackend {
        vm == nil ? NamespaceBackend(store: store) : VMBackend(store: store)
    }
}
