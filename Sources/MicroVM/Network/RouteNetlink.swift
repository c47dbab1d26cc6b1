import Glibc

// rtnetlink(7): links, addresses and routes, read as dumps and written one
// request at a time. The parsers and builders are pure (unit-tested); the
// requests go through a NetlinkSocket.
public enum RouteNetlink {
    public static let newLink: UInt16 = 16, deleteLink: UInt16 = 17, getLink: UInt16 = 18
    public static let newAddress: UInt16 = 20, getAddress: UInt16 = 22
    public static let newRoute: UInt16 = 24, getRoute: UInt16 = 26
    static let linkAddress: UInt16 = 1, linkName: UInt16 = 3, linkMTU: UInt16 = 4, linkInfo: UInt16 = 18, infoKind: UInt16 = 1
    static let addressAddress: UInt16 = 1, addressLocal: UInt16 = 2, addressBroadcast: UInt16 = 4, addressFlags: UInt16 = 8
    static let routeDestination: UInt16 = 1, routeOutput: UInt16 = 4, routeGateway: UInt16 = 5, routePriority: UInt16 = 6,
        routeSource: UInt16 = 7, routeMultipath: UInt16 = 9, routeTable: UInt16 = 15
    public static let mainTable: UInt8 = 254
    public static let protocolKernel: UInt8 = 2, protocolStatic: UInt8 = 4
    public static let unicast: UInt8 = 1
    public static let noDAD: UInt32 = 0x02
    public static let ether: UInt16 = 1
    /// IFF_UP, IFF_LOOPBACK (net/if.h).
    public static let up: UInt32 = 0x1, loopback: UInt32 = 0x8
    static let ifinfoSize = 16, ifaddrSize = 8, rtmsgSize = 12

    /// ifinfomsg: family, pad, type, index, flags, change.
    static func ifinfo(index: Int32 = 0, flags: UInt32 = 0, change: UInt32 = 0) -> [UInt8] {
        [UInt8(AF_UNSPEC), 0] + HostBytes.of(UInt16(0)) + HostBytes.of(index) + HostBytes.of(flags) + HostBytes.of(change)
    }

    public static func dumpRequest(_ type: UInt16) -> NetlinkMessage {
        switch type {
        case getLink: return NetlinkMessage(type: type, flags: 0, header: ifinfo())
        case getAddress: return NetlinkMessage(type: type, flags: 0, header: [UInt8(AF_UNSPEC)] + [UInt8](repeating: 0, count: 7))
        default: return NetlinkMessage(type: type, flags: 0, header: [UInt8(AF_UNSPEC)] + [UInt8](repeating: 0, count: 11))
        }
    }

    /// Sets what is given of the link's name, MTU and up state.
    public static func setLink(index: Int32, name: String? = nil, mtu: Int? = nil, mac: [UInt8]? = nil, up: Bool? = nil) -> NetlinkMessage {
        let upFlag = RouteNetlink.up
        var message = NetlinkMessage(
            type: newLink, flags: 0,
            header: ifinfo(index: index, flags: up == true ? upFlag : 0, change: up == nil ? 0 : upFlag))
        if let name { message.attributes.add(linkName, string: name) }
        if let mtu { message.attributes.add(linkMTU, u32: UInt32(mtu)) }
        if let mac { message.attributes.add(linkAddress, mac) }
        return message
    }

    public static func removeLink(index: Int32) -> NetlinkMessage {
        NetlinkMessage(type: deleteLink, flags: 0, header: ifinfo(index: index))
    }

    /// An address on the link; IPv6 ones without duplicate detection, which
    /// would leave them unusable ("tentative") for the first second or more.
    public static func addAddress(index: Int32, _ address: GuestInterface.Address) -> NetlinkMessage {
        let flags: UInt32 = address.address.isIPv4 ? 0 : noDAD
        let header = [address.address.family, UInt8(address.prefixLength), UInt8(truncatingIfNeeded: flags), 0] + HostBytes.of(UInt32(index))
        var message = NetlinkMessage(type: newAddress, flags: Netlink.create | Netlink.exclusive, header: header)
        message.attributes.add(addressLocal, address.address.bytes)
        message.attributes.add(addressAddress, address.address.bytes)
        if let broadcast = address.broadcast { message.attributes.add(addressBroadcast, broadcast.bytes) }
        if flags != 0 { message.attributes.add(addressFlags, u32: flags) }
        return message
    }

    public static func addRoute(index: Int32, _ route: GuestInterface.Route) -> NetlinkMessage {
        let family = UInt8(route.ipv6 ? AF_INET6 : AF_INET)
        let header = [family, UInt8(route.prefixLength), 0, 0, mainTable, route.origin, route.scope, unicast] + HostBytes.of(UInt32(0))
        var message = NetlinkMessage(type: newRoute, flags: Netlink.create | Netlink.exclusive, header: header)
        if let destination = route.destination { message.attributes.add(routeDestination, destination.bytes) }
        if let gateway = route.gateway { message.attributes.add(routeGateway, gateway.bytes) }
        if let source = route.source { message.attributes.add(routeSource, source.bytes) }
        if let metric = route.metric { message.attributes.add(routePriority, u32: metric) }
        message.attributes.add(routeOutput, u32: UInt32(bitPattern: index))
        return message
    }
}

/// A link as RTM_GETLINK reports it.
public struct LinkInfo: Equatable {
    public var index: Int32
    public var name: String
    /// ARPHRD_* (1: Ethernet).
    public var hardwareType: UInt16
    public var flags: UInt32
    public var mac: [UInt8]
    public var mtu: Int
    /// IFLA_INFO_KIND: "veth", "tun", ...; nil for links without one.
    public var kind: String?

    public init?(_ reply: NetlinkReply) {
        guard reply.type == RouteNetlink.newLink,
            let type = HostBytes.read(UInt16.self, reply.body, at: 2),
            let index = HostBytes.read(Int32.self, reply.body, at: 4),
            let flags = HostBytes.read(UInt32.self, reply.body, at: 8)
        else { return nil }
        let attributes = reply.attributes(after: RouteNetlink.ifinfoSize)
        self.index = index
        hardwareType = type
        self.flags = flags
        name = attributes.first(RouteNetlink.linkName)?.string ?? ""
        mac = Array(attributes.first(RouteNetlink.linkAddress)?.payload ?? [])
        mtu = Int(attributes.first(RouteNetlink.linkMTU)?.u32 ?? 1500)
        kind = attributes.first(RouteNetlink.linkInfo)
            .flatMap { NetlinkAttribute.parse($0.payload).first(RouteNetlink.infoKind)?.string }
    }

    public var isUp: Bool { flags & RouteNetlink.up != 0 }
    public var isLoopback: Bool { flags & RouteNetlink.loopback != 0 }
}

/// An address as RTM_GETADDR reports it.
public struct AddressInfo: Equatable {
    public var index: Int32
    public var prefixLength: Int
    public var scope: UInt8
    public var address: IPAddress
    public var broadcast: IPAddress?

    public init?(_ reply: NetlinkReply) {
        guard reply.type == RouteNetlink.newAddress, reply.body.count >= RouteNetlink.ifaddrSize,
            let index = HostBytes.read(UInt32.self, reply.body, at: 4)
        else { return nil }
        let body = reply.body
        let attributes = reply.attributes(after: RouteNetlink.ifaddrSize)
        // IFA_LOCAL is the address itself; IFA_ADDRESS the peer's on a
        // point-to-point link (IPv6 has only IFA_ADDRESS).
        guard let bytes = (attributes.first(RouteNetlink.addressLocal) ?? attributes.first(RouteNetlink.addressAddress))?.payload,
            let address = IPAddress(bytes: Array(bytes))
        else { return nil }
        self.index = Int32(bitPattern: index)
        prefixLength = Int(body[body.startIndex + 1])
        scope = body[body.startIndex + 3]
        self.address = address
        broadcast = attributes.first(RouteNetlink.addressBroadcast).flatMap { IPAddress(bytes: Array($0.payload)) }
    }
}

/// A route as RTM_GETROUTE reports it.
public struct RouteInfo: Equatable {
    public var ipv6: Bool
    public var prefixLength: Int
    public var table: UInt32
    public var origin: UInt8
    public var scope: UInt8
    public var type: UInt8
    public var destination: IPAddress?
    public var gateway: IPAddress?
    public var source: IPAddress?
    public var metric: UInt32?
    public var outputIndex: Int32?
    public var multipath: Bool

    public init?(_ reply: NetlinkReply) {
        let body = reply.body
        guard reply.type == RouteNetlink.newRoute, body.count >= RouteNetlink.rtmsgSize else { return nil }
        let start = body.startIndex
        let attributes = reply.attributes(after: RouteNetlink.rtmsgSize)
        ipv6 = Int32(body[start]) == AF_INET6
        prefixLength = Int(body[start + 1])
        table = attributes.first(RouteNetlink.routeTable)?.u32 ?? UInt32(body[start + 4])
        origin = body[start + 5]
        scope = body[start + 6]
        type = body[start + 7]
        func address(_ type: UInt16) -> IPAddress? { attributes.first(type).flatMap { IPAddress(bytes: Array($0.payload)) } }
        destination = address(RouteNetlink.routeDestination)
        gateway = address(RouteNetlink.routeGateway)
        source = address(RouteNetlink.routeSource)
        metric = attributes.first(RouteNetlink.routePriority)?.u32
        outputIndex = attributes.first(RouteNetlink.routeOutput)?.u32.map { Int32(bitPattern: $0) }
        multipath = attributes.first(RouteNetlink.routeMultipath) != nil
    }
}

extension NetlinkSocket {
    public func links() throws -> [LinkInfo] {
        try dump(RouteNetlink.dumpRequest(RouteNetlink.getLink), "list network interfaces").compactMap(LinkInfo.init)
    }

    public func addresses() throws -> [AddressInfo] {
        try dump(RouteNetlink.dumpRequest(RouteNetlink.getAddress), "list addresses").compactMap(AddressInfo.init)
    }

    public func routes() throws -> [RouteInfo] {
        try dump(RouteNetlink.dumpRequest(RouteNetlink.getRoute), "list routes").compactMap(RouteInfo.init)
    }
}
