import OCI

/// What the runtime's commands ask of a VM-mode container. The supervisor
/// passes each on to the guest agent, which does it with the linux backend.
public enum ContainerCommand: Codable, Sendable, Equatable {
    case start
    case kill(signal: Int32, all: Bool)
    case pause
    case resume
    case ps
    /// Runs `process` with the stdio of exec slot `slot` (reserved first).
    case exec(slot: Int, process: Process)
    case signalExec(slot: Int, signal: Int32)
    /// A terminal slot's new size; the process gets SIGWINCH from its pty.
    case resize(slot: Int, rows: UInt16, columns: UInt16)
    /// New limits for the container's cgroup in the guest (`update`); the
    /// VM keeps the vCPUs and memory it booted with.
    case update(Resources)

    /// The exec slot a command is about, if any.
    public var slot: Int? {
        switch self {
        case let .exec(slot, _), let .signalExec(slot, _), let .resize(slot, _, _): return slot
        case .start, .kill, .pause, .resume, .ps, .update: return nil
        }
    }
}
