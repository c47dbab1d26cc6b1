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
                let reason = event.failure(subject: subject)
            {
                throw VesselError.initFailed(reason)
            }
            throw error
        }
    }

    /// The go-ahead: the child waits for this message's arrival.
    func handOff(_ handoff: InitHandoff) {
        if case .inPlace = handoff {
            FDIO.writeAll(channel.fd, InitCommand.goAheadFrame)
        } else {
            channel.send(InitCommand.handoff(handoff))
        }
    }

    /// How long the child may take from `lockingDown` to its next word: the
    /// steps in between (seccomp, capabilities, user, cwd) take milliseconds.
    static let lockdownMilliseconds: Int32 = 10_000

    /// The next progress event, nil once the init closed its end (it
    /// exec'd or died); a failure it reports is thrown as one line. After
    /// `lockingDown`, silence past the deadline is a failure too: the child
    /// is alive but cannot speak (a seccomp profile refusing what it needs);
    /// the caller kills it, as on every failure.
    mutating func next() throws -> InitEvent? {
        let timeout = lockedDown ? Self.lockdownMilliseconds : -1
        guard let event = try channel.receive(InitEvent.self, timeoutMilliseconds: timeout) else {
            if lockedDown && !channel.closed {
                throw VesselError.initFailed(
                    "\(subject) fell silent after applying linux.seccomp and its privileges (does the seccomp profile refuse what it needs: write, exit_group, execve?)")
            }
            return nil
        }
        if let reason = event.failure(subject: subject) { throw VesselError.initFailed(reason) }
        if event == .lockingDown { lockedDown = true }
        return event
    }

    private var lockedDown = false

    init(channel: MessageChannel, subject: String) {
        self.channel = channel
        self.subject = subject
    }
}
