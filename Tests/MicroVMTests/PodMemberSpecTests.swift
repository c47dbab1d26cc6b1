import MicroVM
import OCI
import XCTest

final class PodMemberSpecTests: XCTestCase {
    func spec() -> Spec {
        var spec = Spec(ociVersion: "1.0.2")
        spec.root = Root(path: "rootfs", readonly: true)
        spec.mounts = [
            Mount(destination: "/proc", type: "proc", source: "proc", options: nil),
            Mount(destination: "/data", type: "bind", source: "/srv/data", options: ["rbind", "ro"]),
            Mount(destination: "/etc/hosts", type: "bind", source: "/b/hosts", options: ["bind"]),
            Mount(destination: "/dev/fuse", type: "bind", source: "/dev/fuse", options: ["bind"]),
        ]
        var linux = LinuxConfig()
        linux.namespaces = [
            Namespace(type: .pid),
            Namespace(type: .network, path: "/var/run/netns/cni-1"),
            Namespace(type: .ipc, path: "/proc/42/ns/ipc"),
            Namespace(type: .uts, path: "/proc/42/ns/uts"),
            Namespace(type: .cgroup, path: "/proc/42/ns/cgroup"),
            Namespace(type: .mount),
        ]
        linux.cgroupsPath = "/kubepods/pod1/c1"
        spec.linux = linux
        spec.hooks = Hooks()
        return spec
    }

    func testRootfsAndBindSourcesBecomeEntriesOfThePodShare() {
        let member = PodMemberSpec(spec(), id: "c1", rootfs: "/b/rootfs", isDirectory: { $0 != "/b/hosts" }) { _ in true }
        XCTAssertEqual(member.spec.root?.path, "/vm/pod/c1/rootfs")
        XCTAssertEqual(member.spec.root?.readonly, true)
        XCTAssertEqual(
            member.binds,
            [
                PodBind(source: "/b/rootfs", name: "rootfs", isDirectory: true, field: "root.path"),
                PodBind(source: "/srv/data", name: "m1", isDirectory: true, field: "mounts[1].source"),
                PodBind(source: "/b/hosts", name: "m2", isDirectory: false, field: "mounts[2].source"),
            ])
        let mounts = member.spec.mounts ?? []
        XCTAssertEqual(mounts.map(\.destination), ["/proc", "/data", "/etc/hosts"], "the host device is not passed in")
        XCTAssertEqual(mounts[1].source, "/vm/pod/c1/m1")
        XCTAssertEqual(mounts[1].options, ["rbind", "ro"])
        XCTAssertEqual(mounts[2].source, "/vm/pod/c1/m2")
        XCTAssertTrue(member.warnings.contains { $0.contains("/dev/fuse") })
        XCTAssertNil(member.spec.linux?.cgroupsPath)
        XCTAssertNil(member.spec.hooks)
    }

    func testTheSandboxsNamespacesAreLeftToTheGuestAndOthersBecomeNew() {
        let member = PodMemberSpec(spec(), id: "c1", rootfs: "/b/rootfs", isDirectory: { _ in true }) {
            $0.path == "/var/run/netns/cni-1" || $0.path?.hasPrefix("/proc/42/") == true
        }
        XCTAssertEqual(member.joins, [.network, .ipc, .uts])
        // The cgroup namespace is not one a pod shares: a new one, with a warning.
        XCTAssertEqual(member.spec.linux?.namespaces, [Namespace(type: .pid), Namespace(type: .cgroup), Namespace(type: .mount)])
        XCTAssertTrue(member.warnings.contains { $0.contains("cgroup namespace /proc/42/ns/cgroup") })
    }

    func testANamespaceOfAnotherContainerIsNotJoined() {
        let member = PodMemberSpec(spec(), id: "c1", rootfs: "/b/rootfs", isDirectory: { _ in true }) { _ in false }
        XCTAssertEqual(member.joins, [])
        XCTAssertEqual(member.spec.linux?.namespaces?.filter { $0.path != nil }, [])
        XCTAssertEqual(member.warnings.filter { $0.hasPrefix("linux.namespaces") }.count, 4)
    }

    func testThePodsVMIsSizedFromTheSandboxsAnnotations() throws {
        var spec = spec()
        spec.annotations = ["io.kubernetes.cri.sandbox-memory": "\(512 << 20)", "io.kubernetes.cri.sandbox-cpu-quota": "150000"]
        XCTAssertEqual(try GuestSize.forPod(spec, hostCPUs: 4), GuestSize(vcpus: 2, memoryMiB: 512 + GuestSize.overheadMiB))
        spec.annotations = ["org.vessel.vm.memory-mib": "768", "org.vessel.vm.vcpus": "8"]
        XCTAssertEqual(try GuestSize.forPod(spec, hostCPUs: 4), GuestSize(vcpus: 4, memoryMiB: 768))
        spec.annotations = [:]
        XCTAssertEqual(try GuestSize.forPod(spec, hostCPUs: 4), GuestSize(vcpus: 1, memoryMiB: GuestSize.podDefaultMemoryMiB))
        spec.annotations = ["org.vessel.vm.memory-mib": "lots"]
        XCTAssertThrowsError(try GuestSize.forPod(spec, hostCPUs: 4)) { error in
            XCTAssertTrue("\(error)".contains("org.vessel.vm.memory-mib"), "\(error)")
        }
    }
}
