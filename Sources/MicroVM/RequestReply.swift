// The request/reply envelope of both VM protocols (runtime commands <->
// supervisor on supervisor.sock, supervisor <-> guest agent on the control
// port), each message one frame (see MessageChannel). Every request carries
// an id its sender chose; the reply echoes it, so an answer is matched to
// its question by number, never by order or by connection.

public struct Request<Command: Codable & Sendable & Equatable>: Codable, Sendable, Equatable {
    public var id: UInt64
    public var command: Command

    public init(id: UInt64, command: Command) {
        self.id = id
        self.command = command
    }
}

public struct Reply: Codable, Equatable, Sendable {
    public var id: UInt64
    public var answer: Answer

    public init(id: UInt64, answer: Answer) {
        self.id = id
        self.answer = answer
    }
}

/// What a request got: done (with what it made, for some) or one line why not.
public enum Answer: Codable, Equatable, Sendable {
    case done
    case pid(Int32)
    case pids([Int32])
    case slot(Int)
    case failed(reason: String)

    public var pids: [Int32]? {
        if case let .pids(list) = self { return list }
        return nil
    }

    public var slot: Int? {
        if case let .slot(number) = self { return number }
        return nil
    }

    public var failure: String? {
        if case let .failed(reason) = self { return reason }
        return nil
    }
}

/// What a server sends on a connection: a reply, or an event that no
/// request asked for (the agent is up, a process exited).
public enum ServerMessage<Event: Codable & Sendable & Equatable>: Codable, Sendable, Equatable {
    case reply(Reply)
    case event(Event)
}
