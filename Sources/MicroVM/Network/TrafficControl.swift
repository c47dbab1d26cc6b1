import Glibc

// tc over rtnetlink: the ingress qdisc, and a u32 filter that matches every
// packet and redirects it to another link's egress (mirred), what
// `tc qdisc add dev A ingress` and `tc filter add dev A parent ffff:
// protocol all prio P u32 match u8 0 0 action mirred egress redirect dev B`
// send (the bytes are checked against tc's in the unit tests).
public enum TrafficControl {
    static let newQdisc: UInt16 = 36, deleteQdisc: UInt16 = 37, newFilter: UInt16 = 44, deleteFilter: UInt16 = 45
    static let kind: UInt16 = 1, options: UInt16 = 2
    static let u32Selector: UInt16 = 5, u32Actions: UInt16 = 7
    static let actionKind: UInt16 = 1, actionOptions: UInt16 = 2
    static let mirredParameters: UInt16 = 2
    static let stolen: Int32 = 4, egressRedirect: Int32 = 1
    static let ingressParent: UInt32 = 0xffff_fff1, ingressHandle: UInt32 = 0xffff_0000
    /// ETH_P_ALL in network byte order, as tcm_info's low half wants it.
    static let allProtocols = UInt32(UInt16(3).bigEndian)
    static let terminal: UInt8 = 1

    /// tcmsg: family, pads, ifindex, handle, parent, info.
    static func tcmsg(index: Int32, handle: UInt32, parent: UInt32, info: UInt32) -> [UInt8] {
        [UInt8(AF_UNSPEC), 0, 0, 0] + HostBytes.of(index) + HostBytes.of(handle) + HostBytes.of(parent) + HostBytes.of(info)
    }

    public static func addIngress(index: Int32) -> NetlinkMessage {
        var message = NetlinkMessage(
            type: newQdisc, flags: Netlink.create | Netlink.exclusive,
            header: tcmsg(index: index, handle: ingressHandle, parent: ingressParent, info: 0))
        message.attributes.add(kind, string: "ingress")
        return message
    }

    public static func removeIngress(index: Int32) -> NetlinkMessage {
        var message = NetlinkMessage(
            type: deleteQdisc, flags: 0,
            header: tcmsg(index: index, handle: ingressHandle, parent: ingressParent, info: 0))
        message.attributes.add(kind, string: "ingress")
        return message
    }

    /// Every packet arriving on `from` leaves through `to` instead.
    public static func redirect(from: Int32, to: Int32, priority: UInt16) -> NetlinkMessage {
        var message = NetlinkMessage(
            type: newFilter, flags: Netlink.create | Netlink.exclusive,
            header: tcmsg(index: from, handle: 0, parent: ingressHandle, info: UInt32(priority) << 16 | allProtocols))
        message.attributes.add(kind, string: "u32")
        message.attributes.nest(options) { u32 in
            u32.nest(u32Actions) { actions in
                actions.nest(1) { action in
                    action.add(actionKind, string: "mirred")
                    action.nest(actionOptions | Netlink.nested) { mirred in
                        // struct tc_mirred: tc_gen (index, capab, action,
                        // refcnt, bindcnt), eaction, ifindex.
                        mirred.add(
                            mirredParameters,
                            HostBytes.of(UInt32(0)) + HostBytes.of(UInt32(0)) + HostBytes.of(stolen)
                                + HostBytes.of(Int32(0)) + HostBytes.of(Int32(0)) + HostBytes.of(egressRedirect)
                                + HostBytes.of(UInt32(bitPattern: to)))
                    }
                }
            }
            // struct tc_u32_sel (terminal, one key) and its key: mask 0 at
            // offset 0, which every packet matches.
            u32.add(u32Selector, [terminal, 0, 1, 0] + [UInt8](repeating: 0, count: 12) + [UInt8](repeating: 0, count: 16))
        }
        return message
    }

    /// Removes the filters of `priority` (protocol all) from `index`'s ingress.
    public static func removeFilters(index: Int32, priority: UInt16) -> NetlinkMessage {
        NetlinkMessage(
            type: deleteFilter, flags: 0,
            header: tcmsg(index: index, handle: 0, parent: ingressHandle, info: UInt32(priority) << 16 | allProtocols))
    }
}
