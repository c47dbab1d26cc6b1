import Foundation
import OCI
import XCTest

final class DefaultSpecTests: XCTestCase {
    func testDefaultValidates() throws {
        let spec = DefaultSpec.make()
        XCTAssertNoThrow(try SpecValidator.validate(spec))
        XCTAssertEqual(spec.process?.args, ["sh"])
        XCTAssertEqual(spec.process?.terminal, true)
        XCTAssertEqual(spec.root, Root(path: "rootfs", readonly: true))
        XCTAssertEqual(spec.hostname, "vessel")
        let types = spec.linux?.namespaces?.map(\.type) ?? []
        XCTAssertTrue(types.contains(.network))
        XCTAssertFalse(types.contains(.user))
        XCTAssertNil(spec.linux?.uidMappings)
        XCTAssertEqual(spec.linux?.resources?.devices?.first?.allow, false)
        XCTAssertEqual(spec.linux?.resources?.devices?.first?.access, "rwm")
    }

    func testRootlessHasUserNamespaceAndMappings() throws {
        let spec = DefaultSpec.make(rootless: true, uid: 1000, gid: 1001)
        XCTAssertNoThrow(try SpecValidator.validate(spec))
        let namespaces = spec.linux?.namespaces ?? []
        XCTAssertTrue(namespaces.contains(Namespace(type: .user)))
        XCTAssertFalse(namespaces.contains { $0.type == .network }, "rootless cannot set up a network namespace's devices")
        XCTAssertEqual(Set(namespaces.map(\.type)).count, namespaces.count, "no namespace listed twice")
        XCTAssertEqual(spec.linux?.uidMappings, [IDMapping(containerID: 0, hostID: 1000, size: 1)])
        XCTAssertEqual(spec.linux?.gidMappings, [IDMapping(containerID: 0, hostID: 1001, size: 1)])
        XCTAssertNil(spec.linux?.resources)
        // No gid=5 on devpts: the group is not mapped.
        let devpts = spec.mounts?.first { $0.destination == "/dev/pts" }
        XCTAssertNotNil(devpts)
        XCTAssertFalse(devpts?.options?.contains("gid=5") ?? true)
        // As runc's: /sys is bind-mounted, the read-only cgroup mount stays,
        // there is no cgroup namespace, and the hostname stays.
        let sys = spec.mounts?.first { $0.destination == "/sys" }
        XCTAssertEqual(sys?.options?.first, "rbind")
        XCTAssertEqual(spec.mounts?.last?.destination, "/sys/fs/cgroup")
        XCTAssertTrue(spec.mounts?.last?.options?.contains("ro") ?? false)
        XCTAssertTrue(namespaces.contains { $0.type == .cgroup })
        XCTAssertFalse((DefaultSpec.make(rootless: true, cgroupNamespace: false).linux?.namespaces ?? []).contains { $0.type == .cgroup })
        XCTAssertEqual(spec.hostname, "vessel")
    }

    func testRoundTripsThroughJSON() throws {
        for spec in [DefaultSpec.make(), DefaultSpec.make(rootless: true, uid: 1000, gid: 1000)] {
            let data = try JSONEncoder().encode(spec)
            let decoded = try SpecLoader.decode(data)
            XCTAssertEqual(decoded, spec)
            XCTAssertNoThrow(try SpecValidator.validate(decoded))
        }
    }
}
