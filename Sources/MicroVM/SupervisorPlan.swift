import FoundationEssentials
import OSKit
import OCI

// What `create` hands the supervisor, in <state dir>/plan.json.
public struct SupervisorPlan: Codable, Sendable {
    /// QEMU's command, completed by the supervisor (socketDirectory).
    public var qemu: QemuCommand
    /// The container the guest creates; nil for a pool VM's, which has none.
    public var spec: Spec?
    public var shares: [QemuCommand.Share]
    public var bootTimeoutSeconds: Int
    /// Set when process.terminal is: the pty master goes there.
    public var consoleSocket: String?
    public var network: Bool
    /// The engine's interfaces to carry into the guest (TapMirror); the
    /// supervisor runs in their namespace.
    public var engineNetwork: EngineNetwork?
    /// Or, for a new network namespace, the supervisor's own, which an
    /// engine may set up before start (CarriedNetwork).
    public var lateNetwork: LateNetwork?
    /// Restore the guest from this template instead of booting it (nil:
    /// boot cold; so does a restore that fails).
    public var template: TemplatePlan?
    /// Set for a pool VM (PoolPlan).
    public var pool: PoolPlan?

    public init(
        qemu: QemuCommand, spec: Spec?, shares: [QemuCommand.Share], bootTimeoutSeconds: Int, consoleSocket: String?, network: Bool,
        engineNetwork: EngineNetwork? = nil, lateNetwork: LateNetwork? = nil, template: TemplatePlan? = nil, pool: PoolPlan? = nil
    ) {
        self.pool = pool
        self.lateNetwork = lateNetwork
        self.network = network
        self.engineNetwork = engineNetwork
        self.template = template
        self.qemu = qemu
        self.spec = spec
        self.shares = shares
        self.bootTimeoutSeconds = bootTimeoutSeconds
        self.consoleSocket = consoleSocket
    }

    public static func path(in directory: String) -> String { directory + "/plan.json" }

    public func save(in directory: String) throws {
        try FileIO.writeAtomically(Self.path(in: directory), try JSONEncoder().encode(self))
    }

    public static func load(from directory: String) throws -> SupervisorPlan {
        try JSONDecoder().decode(SupervisorPlan.self, from: FileIO.readData(path(in: directory)))
    }
}

/// Files the supervisor keeps in the state directory for the runtime's
/// other commands: the container's status and, once it exits, its status code.
public enum SupervisorFiles {
    public static let socketName = "supervisor.sock"
    public static func socket(in directory: String) -> String { directory + "/" + socketName }
    public static func status(in directory: String) -> String { directory + "/vm-status" }
    public static func exitCode(in directory: String) -> String { directory + "/exit-code" }
    public static func qemuLog(in directory: String) -> String { directory + "/qemu.log" }
}
