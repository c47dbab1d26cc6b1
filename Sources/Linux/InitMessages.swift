import Errors
import OSKit
// The messages on the parent<->init socket (see InitSocket), in the
// framing of MessageChannel.

/// Parent -> init. The first message is always the hand-off; `proceed`
/// follows `mounted` once the runtime's hooks have run.
public enum InitCommand: Codable {
    case handoff(InitHandoff)
    /// Carries the state JSON for the init's own hooks.
    case proceed(state: String)
    /// In place, after the go-ahead: the seccomp agent's process state
    /// (SeccompAgent.state), which names the init's pid.
    case agentState(String)
}

/// Everything the re-executed `vessel init` needs, in place of environment
/// variables: the container's set-up, or the process to exec into it. A child
/// cloned in place already holds one of those and gets only the go-ahead.
public enum InitHandoff: Codable {
    case create(InitContext)
    case exec(ExecPlan)
    /// Go on with the hand-off you were cloned with.
    case inPlace
}

extension InitCommand {
    /// `.handoff(.inPlace)` as a frame, written out once by hand: it is all
    /// the runtime sends a child cloned in place before it goes on, and a
    /// process's first JSON encoding of a type costs more than the message
    /// (InitMessagesTests checks that it decodes as that value). The C
    /// shim's child reads it whole, undecoded.
    public static let goAheadFrame: [UInt8] = {
        let payload = Array(#"{"handoff":{"_0":{"inPlace":{}}}}"#.utf8)
        return [0, 0, 0, UInt8(payload.count)] + payload
    }()
}

/// Init -> parent (and, for its first steps, the clone3 child).
public enum InitEvent: Codable, Equatable, Sendable {
    /// Runtime hooks may run now.
    case mounted
    /// About to load seccomp and drop privileges: from here the init may be
    /// unable to speak (a profile can refuse write, even exit), so the
    /// parent waits for what follows only so long (InitPeer).
    case lockingDown
    /// Set-up done, waiting for start.
    case ready
    /// One line saying what went wrong.
    case failed(reason: String)
    /// The C shim's child failed a step before it could exec the init.
    case spawnFailed(step: SpawnStep, errno: Int32)

    /// The one-line error this event reports; nil for progress.
    public func failure(subject: String) -> String? {
        switch self {
        case .mounted, .lockingDown, .ready: return nil
        case let .failed(reason): return reason
        case let .spawnFailed(step, errno): return step.describe(errno: errno, subject: subject)
        }
    }
}

extension InitEvent {
    /// The progress events' payloads, written out once by hand as the
    /// go-ahead is: they are most of what an init says, and a process's
    /// first JSON coding of this enum (its metadata, its containers) costs
    /// more than the message, in the child and again in the parent. The
    /// bytes are the encoder's own (InitMessagesTests), so the wire is JSON
    /// as before.
    static func handWritten(_ event: InitEvent) -> StaticString? {
        switch event {
        case .mounted: return #"{"mounted":{}}"#
        case .lockingDown: return #"{"lockingDown":{}}"#
        case .ready: return #"{"ready":{}}"#
        case .failed, .spawnFailed: return nil
        }
    }

    /// The message's payload.
    public func payload() throws -> [UInt8] {
        if let text = Self.handWritten(self) { return text.withUTF8Buffer { Array($0) } }
        return try MessageChannel.encode(self)
    }

    /// The event in `payload`: the progress events by their bytes, the
    /// rest through the JSON decoder.
    public static func decode(_ payload: [UInt8]) throws(VesselError) -> InitEvent {
        for event in [InitEvent.mounted, .lockingDown, .ready] {
            if let text = handWritten(event), text.withUTF8Buffer({ payload.elementsEqual($0) }) { return event }
        }
        return try MessageChannel.decode(InitEvent.self, from: payload)
    }
}

extension MessageChannel {
    /// An InitEvent (these overloads are chosen over the generic ones for
    /// it), its progress events as their bytes written out by hand.
    @discardableResult
    public func send(_ event: InitEvent) -> Bool {
        guard let payload = try? event.payload() else { return false }
        return send(payload: payload)
    }

    public func receive(_ type: InitEvent.Type, timeoutMilliseconds: Int32 = -1) throws(VesselError) -> InitEvent? {
        try receivePayload(timeoutMilliseconds: timeoutMilliseconds).map { payload throws(VesselError) in
            try InitEvent.decode(payload)
        }
    }
}
