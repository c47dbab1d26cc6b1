import Errors
import Glibc
import OSKit

// The supervisor's side of an engine's network: it runs in the engine's
// namespace (create spawned it there), makes the taps and redirects before
// QEMU starts, hands QEMU the taps, and undoes the redirects when the VM
// has ended (the taps go with QEMU's descriptors).
public final class CarriedNetwork {
    let socket: NetlinkSocket
    let record: MirrorRecord
    let directory: String
    var taps: [Int32]
    let interfaces: [EngineNetwork.Carried]

    public init(_ network: EngineNetwork, directory: String) throws {
        let own = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)
        guard own >= 0 else { throw VesselError.system("open /proc/self/ns/net") }
        defer { close(own) }
        socket = try NetlinkSocket()
        self.directory = directory
        interfaces = network.interfaces
        (taps, record) = try TapMirror.attach(network, socket: socket, namespaceID: MirrorRecord.identity(of: own) ?? "",
                                              directory: directory)
    }

    /// What the guest's agent configures.
    public var guestInterfaces: [GuestInterface] { interfaces.map(\.guest) }

    /// QEMU's taps as copies it inherits (no close-on-exec), with their MACs;
    /// `closeInherited` closes the copies, and our own fds, once QEMU has
    /// them: QEMU's are then the only ones, so the taps end with it.
    public func inheritableTaps() throws -> [QemuCommand.Tap] {
        try zip(taps, interfaces).map { fd, interface in
            let copy = fcntl(fd, F_DUPFD, 3)
            guard copy >= 0 else { throw VesselError.system("duplicate the descriptor of a tap") }
            return QemuCommand.Tap(fd: copy, mac: interface.guest.mac)
        }
    }

    public func closeInherited(_ inherited: [QemuCommand.Tap]) {
        inherited.forEach { close($0.fd) }
        taps.forEach { close($0) }
        taps = []
    }

    /// Undoes the redirects (call once QEMU is gone).
    public func release() {
        taps.forEach { close($0) }
        taps = []
        TapMirror.detach(record, socket: socket)
        unlink(MirrorRecord.path(in: directory))
    }
}
