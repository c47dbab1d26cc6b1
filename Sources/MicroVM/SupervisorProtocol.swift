// Runtime commands (start, kill, exec's relay...) <-> VM supervisor, on
// <state dir>/supervisor.sock.

/// Client -> supervisor.
public enum SupervisorCommand: Codable, Sendable, Equatable {
    /// An exec slot of the client's own until it disconnects (answer: .slot).
    case reserveSlot
    /// Passed on to the guest agent; the agent's answer comes back.
    case container(ContainerCommand)
}

/// Supervisor -> the client that owns the slot, unasked.
public enum SupervisorEvent: Codable, Sendable, Equatable {
    case execExit(slot: Int, status: Int32)
}

public typealias SupervisorRequest = Request<SupervisorCommand>
/// Everything the supervisor sends a client: replies and SupervisorEvents.
public typealias SupervisorReport = ServerMessage<SupervisorEvent>
