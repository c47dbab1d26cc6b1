@testable import MicroVM
import XCTest

final class QemuCommandTests: XCTestCase {
    func command(_ accelerator: Accelerator) -> QemuCommand {
        QemuCommand(
            qemu: "/usr/bin/qemu-system-x86_64", kernel: "/k/vmlinuz", initramfs: "/c/i.cpio",
            accelerator: accelerator, size: GuestSize(vcpus: 2, memoryMiB: 300), directory: "/run/vessel/c1",
            shares: [.init(tag: "rootfs", hostPath: "/b,x/rootfs", readOnly: false), .init(tag: "m1", hostPath: "/data", readOnly: true)])
    }

    func testMachineSizeAndKernel() {
        let arguments = command(.tcg).arguments
        XCTAssertEqual(arguments.first, "/usr/bin/qemu-system-x86_64")
        XCTAssertEqual(arguments[arguments.firstIndex(of: "-M")! + 1], "microvm")
        XCTAssertEqual(arguments[arguments.firstIndex(of: "-accel")! + 1], "tcg")
        var capped = command(.tcg)
        capped.tcgCodeCacheMiB = 16
        XCTAssertTrue(capped.arguments.contains("tcg,tb-size=16"))
        capped.accelerator = .kvm
        XCTAssertTrue(capped.arguments.contains("kvm"))
        XCTAssertTrue(arguments.contains("max"))
        XCTAssertTrue(arguments.contains("300M"))
        XCTAssertTrue(arguments.contains("-nodefaults"))
        XCTAssertEqual(arguments[arguments.firstIndex(of: "-kernel")! + 1], "/k/vmlinuz")
        XCTAssertTrue(command(.kvm).arguments.contains("host"))
    }

    func testSharesEscapeCommasAndHonourReadOnly() {
        let arguments = command(.tcg).arguments
        XCTAssertTrue(arguments.contains("local,id=fs0,path=/b,,x/rootfs,security_model=passthrough,multidevs=remap"))
        XCTAssertTrue(arguments.contains("local,id=fs1,path=/data,security_model=passthrough,multidevs=remap,readonly=on"))
        XCTAssertTrue(arguments.contains("virtio-9p-device,fsdev=fs1,mount_tag=m1"))
    }

    /// A pod sandbox's VM has more exec slots; the guest learns how many
    /// from its kernel command line, and virtio-serial takes them all.
    func testAPodSandboxsVMHasMoreSlotsAndTellsTheGuest() {
        var pod = command(.tcg)
        pod.execSlots = GuestPorts.podExecSlots
        let ports = GuestPorts.all(execSlots: GuestPorts.podExecSlots)
        XCTAssertEqual(ports.count, 1 + 3 * (GuestPorts.podExecSlots + 1))
        XCTAssertTrue(pod.arguments.contains("virtio-serial-device,max_ports=\(ports.count + 1)"))
        XCTAssertTrue(pod.arguments.contains { $0.hasSuffix("name=vessel.\(GuestPorts.podExecSlots).err") })
        XCTAssertEqual(GuestPorts.execSlots(kernelCommandLine: pod.kernelArguments), GuestPorts.podExecSlots)
        XCTAssertEqual(GuestPorts.execSlots(kernelCommandLine: command(.tcg).kernelArguments), GuestPorts.defaultExecSlots)
        XCTAssertFalse(command(.tcg).kernelArguments.contains("vessel.slots"), "an ordinary VM's command line (and template key) is as before")
    }

    func testEveryPortHasASocketInTheStateDirectory() {
        let arguments = command(.tcg).arguments
        for port in GuestPorts.all(execSlots: GuestPorts.defaultExecSlots) {
            XCTAssertTrue(arguments.contains { $0.hasSuffix("name=\(port)") }, port)
        }
        XCTAssertTrue(arguments.contains("socket,id=p0,path=/run/vessel/c1/ctl.sock,server=on,wait=off"))
        XCTAssertEqual(GuestPorts.socket(GuestPorts.name(slot: 2, .stderr), in: "/d"), "/d/2.err.sock")
    }

    /// A state directory too long for sockaddr_un is reached through the
    /// descriptor QEMU inherits; the console log keeps the real path.
    func testSocketsThroughTheInheritedDirectory() {
        var long = command(.tcg)
        long.directory = "/run/containerd/runc/k8s.io/" + String(repeating: "a", count: 64)
        long.socketDirectory = "/proc/self/fd/7"
        let arguments = long.arguments
        XCTAssertTrue(arguments.contains("socket,id=p0,path=/proc/self/fd/7/ctl.sock,server=on,wait=off"))
        XCTAssertTrue(arguments.contains("file:\(long.directory)/console.log"))
        XCTAssertFalse(arguments.contains { $0.hasPrefix("socket,") && $0.contains(long.directory) })
    }

    func testTCGGuestsGetTheHostTSCRate() {
        XCTAssertEqual(QemuCommand.hostTSCKHz(cpuinfo: "processor\t: 0\ncpu MHz\t\t: 2596.132\n"), 2_596_132)
        XCTAssertNil(QemuCommand.hostTSCKHz(cpuinfo: "processor\t: 0\n"))
        var tcg = command(.tcg)
        tcg.tscKHz = 1000
        XCTAssertTrue(tcg.arguments.contains { $0.hasSuffix("tsc_early_khz=1000") })
        XCTAssertFalse(command(.kvm).arguments.contains { $0.contains("tsc_early_khz") })
    }
}
