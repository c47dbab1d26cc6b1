import Errors
import Linux
import OSKit

// The runtime's side of the init socket (see InitSocket) once the C shim's
// child is spawned: steps of ours before the hand-off, the hand-off, then
// the init's events, each failure as one line.
struct InitPeer {
    let channel: MessageChannel
    /// Who failed, in messages: "container init", "exec'd process".
    let subject: String

    /// Runs a step of ours that comes before the hand-off (id mappings,
    /// cgroup membership). If it fails because the child already failed a
    /// step of its own, the child's record says why.
    func beforeHandoff(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch {
            if let event = try? channel.receive(InitEvent.self, timeoutMilliseconds: 0),
               let reason = event.failure(subject: subject) {
                throw VesselError.initFailed(reason)
            }
            throw error
        }
    }

    /// The go-ahead: the child waits for this message's arrival.
    func handOff(_ handoff: InitHandoff) {
        channel.send(InitCommand.handoff(handoff))
    }

    /// The next progress event, nil once the init closed its end (it
    /// exec'd or died); a failure it reports is thrown as one line.
    func next() throws -> InitEvent? {
        guard let event = try channel.receive(InitEvent.self) else { return nil }
        if let reason = event.failure(subject: subject) { throw VesselError.initFailed(reason) }
        return event
    }
}
