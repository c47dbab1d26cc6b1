/// One interface of the engine's network namespace as the guest recreates
/// it: the engine's name, MAC and MTU, its addresses, and the routes
/// through it (main table). The agent gets these in GuestCreate.
public struct GuestInterface: Codable, Sendable, Equatable {
    public struct Address: Codable, Sendable, Equatable {
        public var address: IPAddress
        public var prefixLength: Int
        public var broadcast: IPAddress?

        public init(address: IPAddress, prefixLength: Int, broadcast: IPAddress? = nil) {
            self.address = address
            self.prefixLength = prefixLength
            self.broadcast = broadcast
        }
    }

    public struct Route: Codable, Sendable, Equatable {
        public var ipv6: Bool
        /// nil: the default route.
        public var destination: IPAddress?
        public var prefixLength: Int
        public var gateway: IPAddress?
        public var source: IPAddress?
        public var metric: UInt32?
        /// rtnetlink's scope and protocol (RT_SCOPE_*, RTPROT_*), kept as given.
        public var scope: UInt8
        public var origin: UInt8

        public init(
            ipv6: Bool, destination: IPAddress?, prefixLength: Int, gateway: IPAddress?, source: IPAddress? = nil,
            metric: UInt32? = nil, scope: UInt8 = 0, origin: UInt8 = RouteNetlink.protocolStatic
        ) {
            self.ipv6 = ipv6
            self.destination = destination
            self.prefixLength = prefixLength
            self.gateway = gateway
            self.source = source
            self.metric = metric
            self.scope = scope
            self.origin = origin
        }
    }

    public var name: String
    /// "aa:bb:cc:dd:ee:ff"; the guest's virtio-net device gets the same.
    public var mac: String
    public var mtu: Int
    public var addresses: [Address]
    public var routes: [Route]

    public init(name: String, mac: String, mtu: Int, addresses: [Address], routes: [Route]) {
        self.name = name
        self.mac = mac
        self.mtu = mtu
        self.addresses = addresses
        self.routes = routes
    }

    public static func macBytes(_ text: String) -> [UInt8]? {
        let bytes = text.split(separator: ":").compactMap { UInt8($0, radix: 16) }
        return bytes.count == 6 ? bytes : nil
    }

    public static func macText(_ bytes: some Collection<UInt8>) -> String {
        bytes.map { byte in
            let hex = String(byte, radix: 16)
            return hex.count == 1 ? "0" + hex : hex
        }.joined(separator: ":")
    }
}

/// The MACs the guest's virtio-net devices have when it boots: fixed, one
/// per device, the same in every VM, so that a template holding network
/// devices fits every container with as many interfaces. The agent gives
/// each device its interface's MAC before anything uses it.
public enum GuestNIC {
    public static func placeholderMAC(_ index: Int) -> String {
        GuestInterface.macText([0x02, 0x76, 0x65, 0x00, 0x00, UInt8(truncatingIfNeeded: index)])
    }

    /// QEMU's devices for `count` interfaces, before their taps exist
    /// (fd -1: the supervisor, or a template's build, gives real ones).
    public static func placeholders(count: Int) -> [QemuCommand.Tap] {
        (0..<count).map { QemuCommand.Tap(fd: -1, mac: placeholderMAC($0)) }
    }
}
