import Errors
import FoundationEssentials

// What an engine's network namespace holds for the guest: every Ethernet
// interface that is up (the engine's veth, macvlan, ...), with its MAC,
// MTU, addresses and the routes through it (main table). Loopback, tunnels
// and the fallback devices some modules put in every namespace (gretap0,
// erspan0: Ethernet, but down) are left out. A namespace in which a tap of
// vessel's already exists is another VM's: nothing is carried twice.
public struct EngineNetwork: Codable, Sendable, Equatable {
    /// One interface to carry: its index in the namespace and the guest's copy.
    public struct Carried: Codable, Sendable, Equatable {
        public var index: Int32
        public var guest: GuestInterface

        public init(index: Int32, guest: GuestInterface) {
            self.index = index
            self.guest = guest
        }
    }

    /// The namespace's path, as config.json gives it.
    public var namespace: String
    public var interfaces: [Carried]
    /// Whether the namespace's loopback is up (engines bring it up); the
    /// container's in the guest then is too.
    public var loopbackUp: Bool

    public init(namespace: String, interfaces: [Carried], loopbackUp: Bool) {
        self.namespace = namespace
        self.interfaces = interfaces
        self.loopbackUp = loopbackUp
    }

    public static let tapPrefix = "vtap"

    /// Reads the namespace through `socket` (made in it).
    public static func read(namespace: String, socket: NetlinkSocket) throws -> (network: EngineNetwork, warnings: [String]) {
        let links = try socket.links()
        if let tap = links.first(where: isVesselTap) {
            return (
                EngineNetwork(namespace: namespace, interfaces: [], loopbackUp: links.contains { $0.isLoopback && $0.isUp }),
                ["network namespace \(namespace) is already carried into another VM (\(tap.name) is there): this one gets loopback only"]
            )
        }
        return (try current(namespace: namespace, socket: socket, links: links), [])
    }

    /// The namespace's loopback and interfaces, where vessel's own taps may
    /// be (the supervisor's own namespace: they are not carried).
    public static func current(namespace: String, socket: NetlinkSocket, links: [LinkInfo]? = nil) throws -> EngineNetwork {
        let links = try links ?? socket.links()
        return EngineNetwork(
            namespace: namespace, interfaces: select(links: links, addresses: try socket.addresses(), routes: try socket.routes()),
            loopbackUp: links.contains { $0.isLoopback && $0.isUp })
    }

    static func isVesselTap(_ link: LinkInfo) -> Bool {
        link.kind == "tun" && link.name.hasPrefix(tapPrefix)
    }

    /// The interfaces to carry, in index order. Addresses the kernel makes
    /// by itself (IPv6 link-local, scope link) and the routes it derives
    /// from addresses (protocol kernel) are left to the guest's kernel.
    static func select(links: [LinkInfo], addresses: [AddressInfo], routes: [RouteInfo]) -> [Carried] {
        links.filter { $0.hardwareType == RouteNetlink.ether && !$0.isLoopback && $0.isUp && $0.mac.count == 6 && $0.kind != "tun" }
            .sorted { $0.index < $1.index }
            .map { link in
                let own = addresses.filter { $0.index == link.index && !($0.address.bytes.count == 16 && $0.address.bytes.starts(with: [0xfe, 0x80])) }
                let through = routes.filter {
                    $0.outputIndex == link.index && $0.table == UInt32(RouteNetlink.mainTable) && $0.type == RouteNetlink.unicast
                        && $0.origin != RouteNetlink.protocolKernel && !$0.multipath
                }
                let guest = GuestInterface(
                    name: link.name, mac: GuestInterface.macText(link.mac), mtu: link.mtu,
                    addresses: own.map { GuestInterface.Address(address: $0.address, prefixLength: $0.prefixLength, broadcast: $0.broadcast) },
                    routes: through.map {
                        GuestInterface.Route(
                            ipv6: $0.ipv6, destination: $0.destination, prefixLength: $0.prefixLength, gateway: $0.gateway,
                            source: $0.source, metric: $0.metric, scope: $0.scope, origin: $0.origin)
                    })
                return Carried(index: link.index, guest: guest)
            }
    }
}
