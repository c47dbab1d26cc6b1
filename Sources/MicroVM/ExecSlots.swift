/// The supervisor's exec slots. A slot is taken from its reservation until
/// both its client has gone and the guest has reported its process's exit
/// (the agent releases the slot's ports then): a client that dies first
/// (an engine's exec timeout kills the relay) must not hand the slot to the
/// next exec while the guest still holds its ports, or that exec fails with
/// EBUSY opening them.
public struct ExecSlots {
    private var owners: [Int: ClientID] = [:]
    private var running: Set<Int> = []
    public let count: Int

    public init(count: Int) {
        self.count = count
    }

    /// A free slot, now owned by `client`; nil when all are taken.
    public mutating func reserve(for client: ClientID) -> Int? {
        guard let slot = (1...count).first(where: { owners[$0] == nil && !running.contains($0) }) else { return nil }
        owners[slot] = client
        return slot
    }

    public func owner(of slot: Int) -> ClientID? { owners[slot] }

    /// An exec was sent to the agent in this slot.
    public mutating func started(_ slot: Int) { running.insert(slot) }

    /// The agent reported the slot's process gone (or refused to start it):
    /// the guest no longer holds the slot's ports.
    public mutating func exited(_ slot: Int) { running.remove(slot) }

    /// The client has gone; returns its slots whose process still runs in
    /// the guest (to be killed: nothing on the host relays it any more).
    public mutating func disconnect(_ client: ClientID) -> [Int] {
        let gone = owners.filter { $0.value == client }.map(\.key).sorted()
        gone.forEach { owners[$0] = nil }
        return gone.filter { running.contains($0) }
    }
}
