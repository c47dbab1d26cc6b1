@testable import MicroVM
import OCI
import XCTest

// The netlink messages VM networking sends, against the bytes iproute2's tc
// sends for the same request (captured with `strace -e write=3`), and the
// parsing and selection of what an engine's namespace holds.
final class VMNetworkMessageTests: XCTestCase {
    static func bytes(_ hex: String) -> [UInt8] {
        hex.split(separator: " ").map { UInt8($0, radix: 16)! }
    }

    /// `tc filter add dev va parent ffff: protocol all prio 7 u32 match u8 0 0
    /// action mirred egress redirect dev vb` with va = 3, vb = 2.
    func testRedirectFilterIsWhatTcSends() {
        var message = TrafficControl.redirect(from: 3, to: 2, priority: 7)
        message.flags |= Netlink.request | Netlink.ack
        let tc = Self.bytes(
            """
            8c 00 00 00 2c 00 05 06 a4 77 0c 6b 00 00 00 00 00 00 00 00 03 00 00 00 00 00 00 00 00 00 ff ff \
            00 03 07 00 08 00 01 00 75 33 32 00 60 00 02 00 38 00 07 00 34 00 01 00 0b 00 01 00 6d 69 72 72 \
            65 64 00 00 24 00 02 80 20 00 02 00 00 00 00 00 00 00 00 00 04 00 00 00 00 00 00 00 00 00 00 00 \
            01 00 00 00 02 00 00 00 24 00 05 00 01 00 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 \
            00 00 00 00 00 00 00 00 00 00 00 00
            """)
        XCTAssertEqual(message.bytes(sequence: 0x6b0c_77a4), tc)
    }

    /// `tc qdisc add dev va ingress` and `tc filter del dev va parent ffff: protocol all prio 7`.
    func testIngressQdiscAndFilterRemovalAreWhatTcSends() {
        var add = TrafficControl.addIngress(index: 3)
        add.flags |= Netlink.request | Netlink.ack
        XCTAssertEqual(
            add.bytes(sequence: 1),
            Self.bytes(
                """
                30 00 00 00 24 00 05 06 01 00 00 00 00 00 00 00 00 00 00 00 03 00 00 00 00 00 ff ff f1 ff ff ff \
                00 00 00 00 0c 00 01 00 69 6e 67 72 65 73 73 00
                """))
        var remove = TrafficControl.removeFilters(index: 3, priority: 7)
        remove.flags |= Netlink.request | Netlink.ack
        XCTAssertEqual(
            remove.bytes(sequence: 1),
            Self.bytes(
                """
                24 00 00 00 2d 00 05 00 01 00 00 00 00 00 00 00 00 00 00 00 03 00 00 00 00 00 00 00 00 00 ff ff \
                00 03 07 00
                """))
    }

    func testRepliesAndNestedAttributesParse() {
        var message = NetlinkMessage(type: RouteNetlink.newLink, flags: 0, header: RouteNetlink.ifinfo(index: 7, flags: RouteNetlink.up))
        message.attributes.add(3, string: "eth0")
        message.attributes.add(1, [0x4e, 0xc0, 0xd5, 0x95, 0x19, 0x0c])
        message.attributes.add(4, u32: 1400)
        message.attributes.nest(18) { $0.add(1, string: "veth") }
        let datagram = message.bytes(sequence: 9) + message.bytes(sequence: 10)
        let replies = NetlinkReply.split(datagram)
        XCTAssertEqual(replies.map(\.sequence), [9, 10])
        let link = try? XCTUnwrap(LinkInfo(replies[0]))
        XCTAssertEqual(link?.index, 7)
        XCTAssertEqual(link?.name, "eth0")
        XCTAssertEqual(link.map { GuestInterface.macText($0.mac) }, "4e:c0:d5:95:19:0c")
        XCTAssertEqual(link?.mtu, 1400)
        XCTAssertEqual(link?.kind, "veth")
        XCTAssertEqual(link?.isUp, true)
        // A truncated message ends the list; an error message carries -errno.
        XCTAssertEqual(NetlinkReply.split(Array(datagram.dropLast())).count, 1)
        let error = NetlinkMessage(type: Netlink.error, flags: 0, header: HostBytes.of(Int32(-17)) + [UInt8](repeating: 0, count: 16))
        XCTAssertEqual(NetlinkReply.split(error.bytes(sequence: 1)).first?.errorCode, 17)
    }

    func testIPAddressesReadAndWriteAsText() throws {
        XCTAssertEqual(IPAddress("10.88.0.2")?.bytes, [10, 88, 0, 2])
        XCTAssertEqual(IPAddress("fd00::1")?.description, "fd00::1")
        XCTAssertNil(IPAddress("10.88.0.300"))
        let decoded = try JSONDecoder().decode([IPAddress].self, from: Data(#"["10.0.0.1","::1"]"#.utf8))
        XCTAssertEqual(decoded.map(\.description), ["10.0.0.1", "::1"])
        XCTAssertThrowsError(try JSONDecoder().decode([IPAddress].self, from: Data(#"["eth0"]"#.utf8)))
    }

    /// Ethernet links that are up are carried; loopback, links that are down
    /// (gretap0) and tunnels are not; link-local addresses and the kernel's
    /// own routes are left to the guest's kernel.
    func testTheEngineInterfacesAreSelected() {
        func link(_ index: Int32, _ name: String, type: UInt16 = 1, up: Bool = true, loopback: Bool = false) -> LinkInfo {
            var message = NetlinkMessage(
                type: RouteNetlink.newLink, flags: 0,
                header: [0, 0] + HostBytes.of(type) + HostBytes.of(index)
                    + HostBytes.of((up ? RouteNetlink.up : 0) | (loopback ? RouteNetlink.loopback : 0)) + HostBytes.of(UInt32(0)))
            message.attributes.add(3, string: name)
            message.attributes.add(1, loopback ? [0, 0, 0, 0, 0, 0] : [2, 0, 0, 0, 0, UInt8(index)])
            message.attributes.add(4, u32: 1500)
            return LinkInfo(NetlinkReply.split(message.bytes(sequence: 1))[0])!
        }
        func address(_ index: Int32, _ text: String, _ prefix: Int) -> AddressInfo {
            let ip = IPAddress(text)!
            var message = NetlinkMessage(type: RouteNetlink.newAddress, flags: 0, header: [ip.family, UInt8(prefix), 0, 0] + HostBytes.of(UInt32(index)))
            message.attributes.add(ip.isIPv4 ? 2 : 1, ip.bytes)
            return AddressInfo(NetlinkReply.split(message.bytes(sequence: 1))[0])!
        }
        func route(_ index: Int32, gateway: String?, origin: UInt8, destination: String? = nil, prefix: UInt8 = 0) -> RouteInfo {
            var message = NetlinkMessage(
                type: RouteNetlink.newRoute, flags: 0,
                header: [2, prefix, 0, 0, 254, origin, gateway == nil ? 253 : 0, 1] + HostBytes.of(UInt32(0)))
            if let destination { message.attributes.add(1, IPAddress(destination)!.bytes) }
            if let gateway { message.attributes.add(5, IPAddress(gateway)!.bytes) }
            message.attributes.add(4, u32: UInt32(index))
            return RouteInfo(NetlinkReply.split(message.bytes(sequence: 1))[0])!
        }
        let links = [link(1, "lo", type: 772, loopback: true), link(2, "gretap0", up: false), link(3, "tunl0", type: 768), link(4, "eth0")]
        let addresses = [address(1, "127.0.0.1", 8), address(4, "10.88.0.2", 16), address(4, "fe80::1", 64), address(4, "fd00::2", 64)]
        let routes = [route(4, gateway: nil, origin: 2, destination: "10.88.0.0", prefix: 16), route(4, gateway: "10.88.0.1", origin: 3)]
        let carried = EngineNetwork.select(links: links, addresses: addresses, routes: routes)
        XCTAssertEqual(carried.map(\.guest.name), ["eth0"])
        XCTAssertEqual(carried.first?.index, 4)
        XCTAssertEqual(carried.first?.guest.mac, "02:00:00:00:00:04")
        XCTAssertEqual(carried.first?.guest.addresses.map { "\($0.address)/\($0.prefixLength)" }, ["10.88.0.2/16", "fd00::2/64"])
        XCTAssertEqual(carried.first?.guest.routes.map { $0.gateway?.description }, ["10.88.0.1"])
        XCTAssertNil(carried.first?.guest.routes.first?.destination)
    }

    func testGuestRequestsCarryTheInterfaceSettings() {
        let up = RouteNetlink.setLink(index: 5, name: "eth0", mtu: 1400, up: true)
        let header = NetlinkReply.split(up.bytes(sequence: 1))[0]
        XCTAssertEqual(HostBytes.read(UInt32.self, header.body, at: 8), RouteNetlink.up)
        XCTAssertEqual(HostBytes.read(UInt32.self, header.body, at: 12), RouteNetlink.up)
        XCTAssertEqual(header.attributes(after: 16).map(\.type), [3, 4])
        let v6 = RouteNetlink.addAddress(index: 5, .init(address: IPAddress("fd00::2")!, prefixLength: 64))
        let reply = NetlinkReply.split(v6.bytes(sequence: 1))[0]
        XCTAssertEqual(reply.body[reply.body.startIndex + 2], UInt8(RouteNetlink.noDAD), "IPv6 addresses skip duplicate detection")
        let route = RouteNetlink.addRoute(index: 5, .init(ipv6: false, destination: nil, prefixLength: 0, gateway: IPAddress("10.88.0.1")))
        let parsed = RouteInfo(NetlinkReply.split(route.bytes(sequence: 1))[0])
        XCTAssertEqual(parsed?.gateway, IPAddress("10.88.0.1"))
        XCTAssertEqual(parsed?.outputIndex, 5)
    }

    /// vessel's own network namespace and the machine's (PID 1's, where it
    /// may be read: not here, where root lacks CAP_SYS_PTRACE over PID 1, and
    /// then it cannot be joined either) are the host's: never carried,
    /// never changed by an undo.
    func testHostNamespacesAreKnown() throws {
        let ids = MirrorRecord.hostNamespaceIDs()
        XCTAssertTrue(ids.contains(try XCTUnwrap(MirrorRecord.identity(ofPath: "/proc/self/ns/net"))))
        if let machine = MirrorRecord.identity(ofPath: "/proc/1/ns/net") { XCTAssertTrue(ids.contains(machine)) }
        XCTAssertNil(MirrorRecord.identity(ofPath: "/nonexistent/netns"))
    }

    func testTapsBecomeVirtioNetDevicesWithTheEngineMAC() {
        var command = QemuCommand(
            qemu: "q", kernel: "k", initramfs: "i", accelerator: .tcg, size: GuestSize(vcpus: 1, memoryMiB: 256),
            directory: "/d", shares: [])
        command.taps = [.init(fd: 7, mac: "4e:c0:d5:95:19:0c")]
        let arguments = command.arguments
        XCTAssertEqual(arguments[arguments.firstIndex(of: "tap,id=tap0,fd=7")! - 1], "-netdev")
        XCTAssertTrue(arguments.contains("virtio-net-device,netdev=tap0,mac=4e:c0:d5:95:19:0c"))
        XCTAssertFalse(arguments.contains { $0.hasPrefix("user,") })
    }

    /// An engine's namespace is carried (the container gets a new one in the
    /// guest, silently); the runtime's own is not; the NAT annotation still wins.
    func testGuestSpecCarriesOnlyAnEngineNamespace() throws {
        var spec = Spec(ociVersion: "1.0.2")
        spec.root = Root(path: "rootfs", readonly: false)
        var linux = LinuxConfig()
        linux.namespaces = [Namespace(type: .pid, path: nil), Namespace(type: .network, path: "/run/netns/ctr")]
        spec.linux = linux
        let engine = try GuestSpec(spec, rootfs: "/r", isDirectory: { _ in true }, isEngineNamespace: { _ in true })
        XCTAssertEqual(engine.engineNetworkNamespace, "/run/netns/ctr")
        XCTAssertEqual(engine.spec.linux?.namespaces, [Namespace(type: .pid, path: nil), Namespace(type: .network, path: nil)])
        XCTAssertEqual(engine.warnings, [])
        let own = try GuestSpec(spec, rootfs: "/r", isDirectory: { _ in true }, isEngineNamespace: { _ in false })
        XCTAssertNil(own.engineNetworkNamespace)
        XCTAssertEqual(own.spec.linux?.namespaces?.map(\.type), [.pid, .network])
        spec.annotations = [GuestSpec.networkAnnotation: "nat"]
        let nat = try GuestSpec(spec, rootfs: "/r", isDirectory: { _ in true }, isEngineNamespace: { _ in true })
        XCTAssertNil(nat.engineNetworkNamespace)
        XCTAssertTrue(nat.network)
    }
}
