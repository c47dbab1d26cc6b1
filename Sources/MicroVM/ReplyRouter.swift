/// A supervisor's connection, numbered in order of arrival: never an fd
/// number, which the kernel hands to the next client once one closes.
public typealias ClientID = UInt64

/// Where each reply the agent owes goes. Clients number their requests
/// themselves, so two clients may both send id 1: the supervisor gives each
/// request passed to the agent a number of its own and keeps, per number,
/// the client and the client's id. A reply for a client that has gone is
/// dropped, never given to whoever connected since.
public struct ReplyRouter {
    public struct Pending: Equatable {
        /// Nil for the supervisor's own requests (signals, resizes) and for
        /// a client that disconnected before its answer came.
        public var client: ClientID?
        public var requestID: UInt64
        public var command: SupervisorCommand

        public init(client: ClientID?, requestID: UInt64, command: SupervisorCommand) {
            self.client = client
            self.requestID = requestID
            self.command = command
        }
    }

    private var nextID: UInt64 = 1
    private var pending: [UInt64: Pending] = [:]

    public init() {}

    /// The id under which to send `command` to the agent.
    public mutating func register(_ command: SupervisorCommand, from client: ClientID?, requestID: UInt64) -> UInt64 {
        let id = nextID
        nextID += 1
        pending[id] = Pending(client: client, requestID: requestID, command: command)
        return id
    }

    /// Who asked for `reply`, once; nil for a reply nobody waits for.
    public mutating func route(_ reply: Reply) -> Pending? {
        pending.removeValue(forKey: reply.id)
    }

    /// The client is gone: its answers still settle (status changes) but reach nobody.
    public mutating func disconnect(_ client: ClientID) {
        for (id, entry) in pending where entry.client == client { pending[id]?.client = nil }
    }

    public var outstanding: Int { pending.count }
}
