import Errors
import CVessel
import Glibc
import MicroVM
import OCI
import OSKit

// The engine's interfaces, recreated in the guest as they were in the
// engine's namespace: each virtio-net device (found by the MAC the host gave
// it) moves into the container's new network namespace under the engine's
// name, through linux.netDevices, before the container's sysctls apply;
// once the container exists, its loopback and interfaces come up there with
// the MTU, addresses and routes the engine gave them (over rtnetlink: the
// initramfs holds no ip or tc).
enum GuestNetwork {
    /// Before create: each device (found by the placeholder MAC it booted
    /// with, GuestNIC) gets its interface's MAC, its MTU and a name of its
    /// own ("vessel<N>": the kernel's eth0 may be another engine
    /// interface's name), and is listed in the spec's linux.netDevices.
    static func prepare(_ spec: inout Spec, for interfaces: [GuestInterface], placeholderMACs: [String], timeoutSeconds: Int = 10) throws {
        guard !interfaces.isEmpty else { return }
        let socket = try NetlinkSocket()
        let links = try devices(for: placeholders(placeholderMACs), socket: socket, timeoutSeconds: timeoutSeconds)
        var linux = spec.linux ?? LinuxConfig()
        var moved = linux.netDevices ?? [:]
        for (number, (interface, link)) in zip(interfaces, links).enumerated() {
            let name = "vessel\(number)"
            guard let mac = GuestInterface.macBytes(interface.mac) else { throw VesselError.setup("\(interface.mac) is not a MAC address") }
            try socket.perform(
                RouteNetlink.setLink(index: link.index, name: name, mtu: interface.mtu, mac: mac, up: false),
                "give \(link.name) the name \(name), the MAC \(interface.mac) and MTU \(interface.mtu)")
            moved[name] = NetDevice(name: interface.name)
        }
        linux.netDevices = moved
        spec.linux = linux
    }

    /// Devices to find by the MACs they booted with.
    static func placeholders(_ macs: [String]) -> [GuestInterface] {
        macs.map { GuestInterface(name: "", mac: $0, mtu: 0, addresses: [], routes: []) }
    }

    /// At start, for interfaces an engine set up after create: each device
    /// (found by its placeholder MAC) takes the interface's MAC, MTU and name
    /// and moves into the container's network namespace, then is set up there.
    static func carryLate(_ update: LateNetworkUpdate, containerPID pid: pid_t) throws {
        let socket = try NetlinkSocket()
        let links = try devices(for: placeholders(update.placeholderMACs), socket: socket, timeoutSeconds: 1)
        let path = "/proc/\(pid)/ns/net"
        let namespace = try sys("open \(path)", open(path, O_RDONLY | O_CLOEXEC))
        defer { close(namespace) }
        for (number, (interface, link)) in zip(update.interfaces, links).enumerated() {
            let name = "vessel\(number)"
            guard let mac = GuestInterface.macBytes(interface.mac) else { throw VesselError.setup("\(interface.mac) is not a MAC address") }
            try socket.perform(
                RouteNetlink.setLink(index: link.index, name: name, mtu: interface.mtu, mac: mac, up: false),
                "give \(link.name) the MAC \(interface.mac) and MTU \(interface.mtu)")
            try sysNegative("move \(name) into the container as \(interface.name)", vessel_move_link(name, interface.name, namespace))
        }
        try configure(update.interfaces, loopbackUp: update.loopbackUp, containerPID: pid)
    }

    /// After create: in the container's network namespace (its init is `pid`).
    static func configure(_ interfaces: [GuestInterface], loopbackUp: Bool, containerPID pid: pid_t) throws {
        guard !interfaces.isEmpty || loopbackUp else { return }
        let path = "/proc/\(pid)/ns/net"
        let namespace = try sys("open \(path)", open(path, O_RDONLY | O_CLOEXEC))
        defer { close(namespace) }
        let socket = try NetlinkSocket(namespace: namespace, name: path)
        let links = try socket.links()
        for link in links where link.isLoopback && loopbackUp {
            try socket.perform(RouteNetlink.setLink(index: link.index, up: true), "set up lo")
        }
        var indexes: [Int32] = []
        for interface in interfaces {
            guard let link = links.first(where: { $0.name == interface.name }) else {
                throw VesselError.setup("\(interface.name) is not in the container's network namespace")
            }
            try socket.perform(RouteNetlink.setLink(index: link.index, up: true), "set up \(interface.name)")
            for address in interface.addresses {
                try ignoringExisting {
                    try socket.perform(
                        RouteNetlink.addAddress(index: link.index, address),
                        "add \(address.address)/\(address.prefixLength) to \(interface.name)")
                }
            }
            indexes.append(link.index)
        }
        // Routes through a gateway need the gateway's own route first.
        for (interface, index) in zip(interfaces, indexes) {
            for route in interface.routes.sorted(by: { ($0.gateway == nil ? 0 : 1) < ($1.gateway == nil ? 0 : 1) }) {
                let destination = route.destination.map { "\($0)/\(route.prefixLength)" } ?? "default"
                try ignoringExisting {
                    try socket.perform(
                        RouteNetlink.addRoute(index: index, route),
                        "add the route \(destination)\(route.gateway.map { " via \($0)" } ?? "") dev \(interface.name)")
                }
            }
        }
    }

    private static func ignoringExisting(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as VesselError where error.errno == .fileExists {}
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
