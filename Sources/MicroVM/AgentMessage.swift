import FoundationEssentials
import OCI

// One line of JSON on the control port (host <-> guest agent) and on the
// supervisor's socket (vessel commands <-> supervisor). Requests carry an
// `op`; answers carry `ok`; events (the container or an exec exited, the
// agent is up) carry `event`.
public struct AgentMessage: Codable, Sendable {
    public enum Op: String, Codable, Sendable {
        case create, start, kill, pause, resume, ps, exec, reserveSlot = "reserve-slot", signalExec = "signal-exec", resize
    }

    public enum Event: String, Codable, Sendable {
        case ready, exit, execExit = "exec-exit"
    }

    public var op: Op?
    public var event: Event?
    public var ok: Bool?
    public var error: String?

    /// create: the spec as the guest runs it, and the shares to mount.
    public var spec: Spec?
    public var shares: [QemuCommand.Share]?
    /// create: bring up the guest's network (eth0 on QEMU's user-mode NAT).
    public var network: Bool?
    /// kill
    public var signal: Int32?
    public var all: Bool?
    /// exec and exec-exit: the stdio slot; exec: the process.
    public var slot: Int?
    public var process: Process?
    /// resize: a terminal slot's new size.
    public var rows: UInt16?
    public var columns: UInt16?
    /// Answers and events.
    public var pid: Int32?
    public var pids: [Int32]?
    public var status: Int32?
    /// ready: the guest kernel's release, and seconds since the guest booted.
    public var kernel: String?
    public var uptime: Double?

    public init(op: Op? = nil, event: Event? = nil) {
        self.op = op
        self.event = event
    }

    public static func answer(ok: Bool, error: String? = nil) -> AgentMessage {
        var message = AgentMessage()
        message.ok = ok
        message.error = error
        return message
    }

    public func encoded() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    public static func decode(_ line: String) -> AgentMessage? {
        try? JSONDecoder().decode(AgentMessage.self, from: Data(line.utf8))
    }
}
