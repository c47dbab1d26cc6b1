// Runtime commands (start, kill, exec's relay...) <-> VM supervisor, on
// <state dir>/supervisor.sock.

/// Client -> supervisor.
public enum SupervisorCommand: Codable, Sendable, Equatable {
    /// An exec slot of the client's own until it disconnects (answer: .slot).
    case reserveSlot
    /// Passed on to the guest agent; the agent's answer comes back.
    case container(ContainerCommand)
    /// A further container of the pod whose sandbox this supervisor runs,
    /// with its stdio in a slot the client reserved (a pod sandbox only).
    case join(PodJoin)
    /// As `container`, for a container that joined the pod.
    case member(id: String, ContainerCommand)
}

/// A VM-mode container as the supervisor serving it sees it: its own, or,
/// when the supervisor's directory is another container's, a member of the
/// pod that container is the sandbox of (state directories are <root>/<id>).
public struct VMTarget: Sendable, Equatable {
    public let supervisorDirectory: String
    public let id: String

    public init(supervisorDirectory: String, id: String) {
        self.supervisorDirectory = supervisorDirectory
        self.id = id
    }

    public var isMember: Bool { supervisorDirectory.split(separator: "/").last.map(String.init) != id }

    /// `command`, addressed to this container.
    public func command(_ command: ContainerCommand) -> SupervisorCommand {
        isMember ? .member(id: id, command) : .container(command)
    }
}

/// Supervisor -> the client that owns the slot, unasked.
public enum SupervisorEvent: Codable, Sendable, Equatable {
    case execExit(slot: Int, status: Int32)
}

public typealias SupervisorRequest = Request<SupervisorCommand>
/// Everything the supervisor sends a client: replies and SupervisorEvents.
public typealias SupervisorReport = ServerMessage<SupervisorEvent>
