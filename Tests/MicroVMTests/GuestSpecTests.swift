import MicroVM
import OCI
import XCTest

final class GuestSpecTests: XCTestCase {
    func spec(mounts: [Mount], namespaces: [Namespace] = []) -> Spec {
        var spec = Spec(ociVersion: "1.0.2")
        spec.root = Root(path: "rootfs", readonly: true)
        spec.mounts = mounts
        var linux = LinuxConfig()
        linux.namespaces = namespaces
        linux.cgroupsPath = "/host/path"
        spec.linux = linux
        spec.hooks = Hooks()
        return spec
    }

    func testRootfsAndBindSourcesBecomeShares() throws {
        let mounts = [
            Mount(destination: "/proc", type: "proc", source: "proc", options: nil),
            Mount(destination: "/data", type: "bind", source: "/srv/data", options: ["rbind", "ro"]),
            Mount(destination: "/etc/hosts", type: "bind", source: "/b/hosts", options: ["bind"]),
            Mount(destination: "/etc/hostname", type: "bind", source: "/b/hostname", options: ["bind"]),
        ]
        let guest = try GuestSpec(spec(mounts: mounts), rootfs: "/b/rootfs") { $0 == "/srv/data" }
        XCTAssertEqual(guest.spec.root?.path, "/vm/rootfs")
        XCTAssertEqual(guest.spec.root?.readonly, true)
        XCTAssertEqual(guest.shares.map(\.tag), ["rootfs", "m1", "m2"])
        XCTAssertEqual(guest.shares[1].hostPath, "/srv/data")
        XCTAssertTrue(guest.shares[1].readOnly)
        XCTAssertEqual(guest.shares[2].hostPath, "/b")
        XCTAssertEqual(guest.spec.mounts?.map { $0.source ?? "" }, ["proc", "/vm/m1", "/vm/m2/hosts", "/vm/m2/hostname"])
        XCTAssertNil(guest.spec.linux?.cgroupsPath)
        XCTAssertNil(guest.spec.hooks)
    }

    func testHostDevicesAreSkippedAndNamespacePathsDropped() throws {
        let mounts = [Mount(destination: "/dev/fuse", type: "bind", source: "/dev/fuse", options: ["bind"])]
        let namespaces = [Namespace(type: .network, path: "/run/netns/x"), Namespace(type: .pid, path: nil)]
        let guest = try GuestSpec(spec(mounts: mounts, namespaces: namespaces), rootfs: "/r") { _ in false }
        XCTAssertEqual(guest.spec.mounts, [])
        // Without the network annotation, the engine's netns becomes a new, empty one.
        XCTAssertEqual(guest.spec.linux?.namespaces?.map(\.path), [nil, nil])
        XCTAssertFalse(guest.network)
        XCTAssertEqual(guest.warnings.count, 2, "\(guest.warnings)")
    }

    func testTooManySharedDirectoriesIsAConfigError() {
        let mounts = (0..<8).map { Mount(destination: "/d\($0)", type: "bind", source: "/src\($0)", options: ["bind"]) }
        XCTAssertThrowsError(try GuestSpec(spec(mounts: mounts), rootfs: "/r") { _ in true }) { error in
            XCTAssertTrue("\(error)".hasPrefix("vm: config.json: mounts[5]"), "\(error)")
        }
    }

    func testTheNetworkAnnotationGivesTheVMANICUnlessTheNamespaceIsNewAndEmpty() throws {
        func guest(_ namespaces: [Namespace], annotated: Bool) throws -> GuestSpec {
            var config = spec(mounts: [], namespaces: namespaces)
            if annotated { config.annotations = [GuestSpec.networkAnnotation: "nat"] }
            return try GuestSpec(config, rootfs: "/r") { _ in true }
        }
        let engine = try guest([Namespace(type: .network, path: "/run/netns/x"), Namespace(type: .pid)], annotated: true)
        XCTAssertTrue(engine.network)
        XCTAssertEqual(engine.spec.linux?.namespaces, [Namespace(type: .pid)])
        XCTAssertTrue(try guest([Namespace(type: .pid)], annotated: true).network)
        XCTAssertFalse(try guest([Namespace(type: .network)], annotated: true).network)
        XCTAssertFalse(try guest([Namespace(type: .pid)], annotated: false).network)
    }

    /// 9p shares a directory, not mounts: a mount made in the guest cannot
    /// reach the host, which the warning says.
    func testBidirectionalPropagationIsWarnedAbout() throws {
        let mounts = [
            Mount(destination: "/shared", type: "bind", source: "/srv/shared", options: ["rbind", "rshared"]),
            Mount(destination: "/slave", type: "bind", source: "/srv/slave", options: ["rbind", "rslave"]),
        ]
        let guest = try GuestSpec(spec(mounts: mounts), rootfs: "/r") { _ in true }
        XCTAssertEqual(guest.warnings, ["mounts[0]: /shared: bidirectional propagation stops at the VM: mounts made in the container stay in the guest"])
    }
}
