import OCI

// Supervisor <-> guest agent, on the control port (virtio-serial).

/// Supervisor -> agent.
public enum AgentCommand: Codable, Sendable, Equatable {
    /// Reseed the guest's RNG and set its clock (see GuestRefresh): always
    /// the first command, and the only one before `create`.
    case refresh(GuestRefresh)
    case create(GuestCreate)
    case container(ContainerCommand)
    /// At start: the interfaces an engine set up after create (CarriedNetwork).
    case network(LateNetworkUpdate)
    /// A further container of the pod, run beside the sandbox's (PodJoin);
    /// answered with its guest pid. It exits as an exec slot's process does.
    case join(PodJoin)
    /// A command for a container that joined the pod.
    case member(id: String, ContainerCommand)
    /// A pool VM's shares, mounted before any container joins (PoolPlan).
    case mountShares([QemuCommand.Share])
}

/// The container as the guest runs it: the rewritten spec, the 9p shares
/// to mount first, whether to bring up eth0 on QEMU's user-mode NAT, and
/// the engine's interfaces to recreate (on virtio-net devices with their MACs).
public struct GuestCreate: Codable, Sendable, Equatable {
    public var spec: Spec
    public var shares: [QemuCommand.Share]
    public var network: Bool
    public var interfaces: [GuestInterface]
    /// The MAC each interface's device booted with (GuestNIC), which the
    /// agent replaces with the interface's.
    public var placeholderMACs: [String]
    /// The engine's namespace had its loopback up: so has the container's.
    public var loopbackUp: Bool

    public init(
        spec: Spec, shares: [QemuCommand.Share], network: Bool, interfaces: [GuestInterface] = [], placeholderMACs: [String] = [],
        loopbackUp: Bool = false
    ) {
        self.spec = spec
        self.shares = shares
        self.network = network
        self.interfaces = interfaces
        self.placeholderMACs = placeholderMACs
        self.loopbackUp = loopbackUp
    }
}

/// Agent -> supervisor, unasked.
public enum AgentEvent: Codable, Sendable, Equatable {
    /// The agent is up: the guest kernel's release, seconds since boot.
    case ready(kernel: String, uptime: Double?)
    /// The container's process exited with `status` (128+N after signal N).
    case exit(status: Int32)
    case execExit(slot: Int, status: Int32)
}

public typealias AgentRequest = Request<AgentCommand>
/// Everything the agent sends: replies to AgentRequests and AgentEvents.
public typealias AgentReport = ServerMessage<AgentEvent>
