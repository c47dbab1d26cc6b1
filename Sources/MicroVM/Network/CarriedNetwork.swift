import Errors
import Glibc
import OSKit

// The supervisor's side of an engine's network. Given by path, the
// namespace is set up before create: the supervisor runs in it (create
// spawned it there), makes the taps and redirects before QEMU starts and
// hands QEMU the taps. Asked for as a new namespace, it is the
// supervisor's own, which an engine may set up between create and start
// (buildah configures /proc/<pid>/ns/net): one tap is made for it at boot,
// with a placeholder MAC, and at start the interface found there is
// redirected to it and handed to the agent (`carryLate`). The redirects
// are undone when the VM has ended; the taps go with QEMU's descriptors.
public final class CarriedNetwork {
    let socket: NetlinkSocket
    var record: MirrorRecord
    let directory: String
    var taps: [Int32]
    /// The MAC of each tap's device in the guest.
    let macs: [String]
    var interfaces: [EngineNetwork.Carried]
    /// The late case's tap, until start.
    var pending: LinkInfo?

    /// The engine's namespace, given by path and already set up.
    public init(_ network: EngineNetwork, directory: String) throws {
        socket = try NetlinkSocket()
        self.directory = directory
        interfaces = network.interfaces
        macs = network.interfaces.indices.map(GuestNIC.placeholderMAC)
        (taps, record) = try TapMirror.attach(
            network, socket: socket, namespaceID: Self.ownNamespaceID(),
            directory: directory)
    }

    /// The supervisor's own new namespace, which an engine may set up later.
    public init(late: LateNetwork, directory: String) throws {
        socket = try NetlinkSocket()
        self.directory = directory
        interfaces = []
        macs = [late.placeholderMAC]
        let namespace = "/proc/\(getpid())/ns/net"
        record = MirrorRecord(namespace: namespace, namespaceID: try Self.ownNamespaceID(), pairs: [])
        let tap = try TapMirror.makeTap(EngineNetwork.tapPrefix + "0", socket: socket, in: namespace)
        taps = [tap.fd]
        pending = tap.link
    }

    static func ownNamespaceID() throws -> String {
        let own = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)
        guard own >= 0 else { throw VesselError.system("open /proc/self/ns/net") }
        defer { close(own) }
        return MirrorRecord.identity(of: own) ?? ""
    }

    /// What the guest's agent configures at create.
    public var guestInterfaces: [GuestInterface] { interfaces.map(\.guest) }

    /// The MACs the guest's devices for `guestInterfaces` boot with.
    public var guestPlaceholderMACs: [String] { Array(macs.prefix(interfaces.count)) }

    /// At start, in the late case: the first interface the engine put in
    /// the namespace since create, redirected to the boot-time tap, and
    /// what the agent must do with it; nil when there is nothing to carry.
    public func carryLate() throws -> LateNetworkUpdate? {
        guard let tap = pending else { return nil }
        pending = nil
        let found = try EngineNetwork.current(namespace: record.namespace, socket: socket)
        if let interface = found.interfaces.first {
            try TapMirror.connect(tap: tap, to: interface, socket: socket, record: &record, directory: directory)
            interfaces = [interface]
        }
        guard !interfaces.isEmpty || found.loopbackUp else { return nil }
        return LateNetworkUpdate(
            placeholderMACs: Array(macs.prefix(interfaces.count)), interfaces: guestInterfaces,
            loopbackUp: found.loopbackUp)
    }

    /// QEMU's taps as copies it inherits (no close-on-exec), with their MACs;
    /// `closeInherited` closes the copies, and our own fds, once QEMU has
    /// them: QEMU's are then the only ones, so the taps end with it.
    public func inheritableTaps() throws -> [QemuCommand.Tap] {
        try zip(taps, macs).map { fd, mac in
            let copy = fcntl(fd, F_DUPFD, 3)
            guard copy >= 0 else { throw VesselError.system("duplicate the descriptor of a tap") }
            return QemuCommand.Tap(fd: copy, mac: mac)
        }
    }

    public func closeInherited(_ inherited: [QemuCommand.Tap]) {
        inherited.forEach { close($0.fd) }
        taps.forEach { close($0) }
        taps = []
    }

    /// After a QEMU that may not live (a restore): only the copies close;
    /// the taps stay for the next QEMU until `closeInherited`.
    public func closeCopies(_ inherited: [QemuCommand.Tap]) {
        inherited.forEach { close($0.fd) }
    }

    /// Undoes the redirects (call once QEMU is gone).
    public func release() {
        taps.forEach { close($0) }
        taps = []
        TapMirror.detach(record, socket: socket)
        unlink(MirrorRecord.path(in: directory))
    }
}

/// create's plan for a VM whose network namespace is new: the MAC the
/// boot-time tap's device has until an interface is carried onto it.
public struct LateNetwork: Codable, Sendable, Equatable {
    public var placeholderMAC: String

    public init(placeholderMAC: String) { self.placeholderMAC = placeholderMAC }

    /// The first device's (GuestNIC): fixed, so a template fits.
    public static var placeholder: LateNetwork { LateNetwork(placeholderMAC: GuestNIC.placeholderMAC(0)) }
}

/// Supervisor -> agent at start: the devices (by their placeholder MACs)
/// that become these interfaces, in the container's network namespace.
public struct LateNetworkUpdate: Codable, Sendable, Equatable {
    public var placeholderMACs: [String]
    public var interfaces: [GuestInterface]
    public var loopbackUp: Bool
}
