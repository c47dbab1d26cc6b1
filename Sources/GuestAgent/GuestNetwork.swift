import Errors
import Glibc
import MicroVM
import OSKit

// The engine's interfaces, recreated in the guest: each virtio-net device is
// found by the MAC the host gave it, renamed to the engine's name, given
// its MTU, brought up, then its addresses and routes are added (over
// rtnetlink: the initramfs holds no ip or tc).
enum GuestNetwork {
    static func configure(_ interfaces: [GuestInterface], timeoutSeconds: Int = 10) throws {
        guard !interfaces.isEmpty else { return }
        let socket = try NetlinkSocket()
        let links = try devices(for: interfaces, socket: socket, timeoutSeconds: timeoutSeconds)
        // Every device gets a temporary name first: eth0 may be the name the
        // kernel gave another device that becomes eth1 here.
        for (number, link) in links.enumerated() {
            try socket.perform(RouteNetlink.setLink(index: link.index, name: "vessel\(number)", up: false), "rename \(link.name)")
        }
        for (interface, link) in zip(interfaces, links) {
            try socket.perform(RouteNetlink.setLink(index: link.index, name: interface.name, mtu: interface.mtu, up: true),
                               "set up \(interface.name) (MAC \(interface.mac), MTU \(interface.mtu))")
            for address in interface.addresses {
                do {
                    try socket.perform(RouteNetlink.addAddress(index: link.index, address),
                                       "add \(address.address)/\(address.prefixLength) to \(interface.name)")
                } catch let error as VesselError where error.errno == .fileExists {}
            }
        }
        // Routes through a gateway need the gateway's own route first.
        for (interface, link) in zip(interfaces, links) {
            for route in interface.routes.sorted(by: { ($0.gateway == nil ? 0 : 1) < ($1.gateway == nil ? 0 : 1) }) {
                let destination = route.destination.map { "\($0)/\(route.prefixLength)" } ?? "default"
                do {
                    try socket.perform(RouteNetlink.addRoute(index: link.index, route),
                                       "add the route \(destination)\(route.gateway.map { " via \($0)" } ?? "") dev \(interface.name)")
                } catch let error as VesselError where error.errno == .fileExists {}
            }
        }
    }

    /// The guest's link for each interface, by MAC; the driver makes them
    /// while it probes, so wait (bounded) until all are there.
    static func devices(for interfaces: [GuestInterface], socket: NetlinkSocket, timeoutSeconds: Int) throws -> [LinkInfo] {
        for _ in 0..<(timeoutSeconds * 100) {
            let links = try socket.links()
            let found = interfaces.compactMap { interface in links.first { GuestInterface.macText($0.mac) == interface.mac.lowercased() } }
            if found.count == interfaces.count { return found }
            usleep(10000)
        }
        throw VesselError.setup("no virtio-net device in the guest for \(interfaces.map { "\($0.name) (\($0.mac))" }.joined(separator: ", "))")
    }
}
