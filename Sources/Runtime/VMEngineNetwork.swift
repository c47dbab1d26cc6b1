import Errors
import Glibc
import MicroVM
import OCI
import OSKit

// create's part of carrying an engine's network into the VM: the namespace
// is opened (and checked to be a network namespace), its interfaces read
// from outside it, and the supervisor is spawned into it with the
// descriptor. The runtime's own namespace and the machine's (PID 1's) are
// never carried (GuestSpec gets `isEngineNamespace`): their interfaces are
// the host's.
struct VMEngineNetwork {
    /// The namespace, open; the supervisor joins it.
    let namespaceFD: Int32
    let network: EngineNetwork
    let warnings: [String]

    static func isEngineNamespace(_ path: String) -> Bool {
        guard let id = MirrorRecord.identity(ofPath: path) else { return true }  // create's open names the field
        return !MirrorRecord.hostNamespaceIDs().contains(id)
    }

    /// A new network namespace: the supervisor's own, which an engine may
    /// set up before start (buildah); a device waits for it in the guest
    /// when a virtio-mmio slot is free and the host has taps (without them
    /// the VM boots as before, with loopback only).
    static func late(newNamespace: Bool, guest: GuestSpec) -> LateNetwork? {
        guard newNamespace, guest.shares.count + 2 <= GuestSpec.mmioSlots, FileIO.exists("/dev/net/tun") else { return nil }
        return LateNetwork.placeholder
    }

    static func open(_ guest: GuestSpec, spec: Spec) throws -> VMEngineNetwork? {
        guard let path = guest.engineNetworkNamespace else { return nil }
        let index = spec.linux?.namespaces?.firstIndex { $0.type == .network } ?? 0
        let field = "linux.namespaces[\(index)].path"
        let fd = try NamespaceFDs.open(path, as: .network, field: field)
        do {
            let (network, warnings) = try EngineNetwork.read(namespace: path, socket: NetlinkSocket(namespace: fd, name: path))
            let free = GuestSpec.mmioSlots - 1 - guest.shares.count
            guard network.interfaces.count <= free else {
                throw VesselError.vmConfig(
                    "\(field): network namespace \(path) has \(network.interfaces.count) interfaces; "
                        + "with \(guest.shares.count) shared directories only \(free) fit the VM's \(GuestSpec.mmioSlots) virtio-mmio slots")
            }
            return VMEngineNetwork(namespaceFD: fd, network: network, warnings: warnings)
        } catch {
            close(fd)
            throw error
        }
    }
}
