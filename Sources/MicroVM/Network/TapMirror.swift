import CVessel
import Errors
import FoundationEssentials
import Glibc
import OSKit
import SystemPackage

// Kata Containers' "tcfilter" model: for each interface the engine gave the
// container, a tap in the same namespace (QEMU gets its fd) and two tc
// redirects, engine interface ingress -> tap egress and tap ingress ->
// engine interface egress, so the guest's virtio-net device (with the
// interface's MAC) is on the engine's wire and the namespace's own stack is
// bypassed. Taps are not persistent: they go with QEMU's descriptors. What
// stays on the engine's interface (its ingress qdisc and our filter) is
// recorded in <state dir>/network.json and removed when the VM ends.
public enum TapMirror {
    /// Our filters' priority on the engine's interface: stale ones from a VM
    /// that was killed are replaced, other filters there are left alone.
    public static let priority: UInt16 = 0x5653

    /// Made in the supervisor, which runs in the namespace. The taps' fds
    /// (close-on-exec) in interface order, and the record, saved to
    /// `directory` after each step. On failure, what was made is undone.
    public static func attach(
        _ network: EngineNetwork, socket: NetlinkSocket, namespaceID: String,
        directory: String
    ) throws -> (taps: [Int32], record: MirrorRecord) {
        var record = MirrorRecord(namespace: network.namespace, namespaceID: namespaceID, pairs: [])
        var taps: [Int32] = []
        do {
            for (number, interface) in network.interfaces.enumerated() {
                let tap = try makeTap(EngineNetwork.tapPrefix + "\(number)", socket: socket, in: network.namespace)
                taps.append(tap.fd)
                try connect(tap: tap.link, to: interface, socket: socket, record: &record, directory: directory)
            }
        } catch {
            taps.forEach { close($0) }
            detach(record, socket: socket)
            MirrorRecord.remove(in: directory)
            throw VesselError(error).wrapped("vm: carry the engine's network into the VM", field: "linux.namespaces")
        }
        return (taps, record)
    }

    /// A tap in the caller's namespace (the socket's): its fd and its link.
    public static func makeTap(_ name: String, socket: NetlinkSocket, in namespace: String) throws -> (fd: Int32, link: LinkInfo) {
        let fd = try sysNegative("create tap \(name) in network namespace \(namespace)", vessel_tap_open(name, 1, nil))
        guard let link = try socket.links().first(where: { $0.name == name }) else {
            close(fd)
            throw VesselError.setup("tap \(name) is missing right after it was made in \(namespace)")
        }
        return (fd, link)
    }

    /// The tap up with the interface's MTU, and the two redirects, each
    /// step in `record` (saved in `directory`) before the next.
    public static func connect(
        tap: LinkInfo, to interface: EngineNetwork.Carried, socket: NetlinkSocket,
        record: inout MirrorRecord, directory: String
    ) throws {
        let engine = interface.guest.name, name = tap.name
        try socket.perform(RouteNetlink.setLink(index: tap.index, mtu: interface.guest.mtu, up: true), "set \(name) up with MTU \(interface.guest.mtu)")
        try socket.perform(TrafficControl.addIngress(index: tap.index), "add an ingress qdisc to \(name)")
        record.pairs.append(MirrorRecord.Pair(engine: engine, engineIndex: interface.index, tap: name, ownsIngress: false))
        try record.save(in: directory)
        try socket.perform(TrafficControl.redirect(from: tap.index, to: interface.index, priority: priority), "redirect \(name) to \(engine)")
        let made = try addIngressIfMissing(index: interface.index, name: engine, socket: socket)
        record.pairs[record.pairs.count - 1].ownsIngress = made
        try record.save(in: directory)
        try? socket.perform(TrafficControl.removeFilters(index: interface.index, priority: priority), "remove stale filters")
        try socket.perform(TrafficControl.redirect(from: interface.index, to: tap.index, priority: priority), "redirect \(engine) to \(name)")
    }

    /// True when it made the qdisc; false when the interface had one (an
    /// engine's bandwidth limit, say), which then stays when we leave.
    static func addIngressIfMissing(index: Int32, name: String, socket: NetlinkSocket) throws -> Bool {
        do {
            try socket.perform(TrafficControl.addIngress(index: index), "add an ingress qdisc to \(name)")
            return true
        } catch let error as VesselError where error.errno == .fileExists {
            return false
        }
    }

    /// Removes our filters from the engine's interfaces, their ingress
    /// qdisc where we made it, and any tap still there. Best effort: what
    /// is already gone (the engine removed the interface) is skipped.
    public static func detach(_ record: MirrorRecord, socket: NetlinkSocket) {
        let links = (try? socket.links()) ?? []
        for pair in record.pairs {
            // Only the interface we changed: same index and name.
            if links.contains(where: { $0.index == pair.engineIndex && $0.name == pair.engine }) {
                try? socket.perform(TrafficControl.removeFilters(index: pair.engineIndex, priority: priority), "remove filters")
                if pair.ownsIngress { try? socket.perform(TrafficControl.removeIngress(index: pair.engineIndex), "remove qdisc") }
            }
            if let tap = links.first(where: { $0.name == pair.tap && EngineNetwork.isVesselTap($0) }) {
                try? socket.perform(RouteNetlink.removeLink(index: tap.index), "remove \(pair.tap)")
            }
        }
    }
}

/// What TapMirror changed in an engine's namespace, in <state dir>/network.json.
public struct MirrorRecord: Codable, Sendable, Equatable {
    public struct Pair: Codable, Sendable, Equatable {
        public var engine: String
        public var engineIndex: Int32
        public var tap: String
        public var ownsIngress: Bool
    }

    public var namespace: String
    /// "device:inode" of the namespace, checked before anything is undone.
    public var namespaceID: String
    public var pairs: [Pair]

    public static func path(in directory: String) -> String { directory + "/network.json" }

    public func save(in directory: String) throws {
        try FileIO.writeAtomically(Self.path(in: directory), try JSONEncoder().encode(self))
    }

    static func remove(in directory: String) { unlink(path(in: directory)) }

    /// "device:inode" of a namespace file (or of any open fd).
    public static func identity(of fd: Int32) -> String? {
        var info = stat()
        guard fstat(fd, &info) == 0 else { return nil }
        return "\(info.st_dev):\(info.st_ino)"
    }

    public static func identity(ofPath path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return "\(info.st_dev):\(info.st_ino)"
    }

    /// The network namespaces never carried into a VM nor changed by
    /// vessel: its own and the machine's (PID 1's), whose interfaces are
    /// the host's. A config naming /proc/1/ns/net from a vessel that runs
    /// in a namespace of its own gets a new, empty one instead.
    public static func hostNamespaceIDs() -> Set<String> {
        Set(["/proc/self/ns/net", "/proc/1/ns/net"].compactMap(identity(ofPath:)))
    }

    /// `delete`'s clean-up after a VM whose supervisor did not get to undo
    /// its changes (SIGKILL): the recorded namespace, if it is still the
    /// same one and not the caller's own, loses our filters and qdiscs.
    public static func undo(in directory: String) {
        let path = Self.path(in: directory)
        guard FileIO.exists(path) else { return }
        defer { unlink(path) }
        guard let data = try? FileIO.readData(path), let record = try? JSONDecoder().decode(MirrorRecord.self, from: data) else { return }
        let fd = open(record.namespace, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }  // the engine removed it, and with it everything
        defer { close(fd) }
        guard let id = identity(of: fd), id == record.namespaceID, !hostNamespaceIDs().contains(id) else { return }
        guard let socket = try? NetlinkSocket(namespace: fd, name: record.namespace) else { return }
        TapMirror.detach(record, socket: socket)
    }
}
