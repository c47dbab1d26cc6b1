import Errors
import CVessel
import Glibc
import Linux
import OSKit
import MicroVM
import SystemPackage

// What the agent does as PID 1 before it can run a container: the kernel's
// file systems, the drivers from the initramfs, and the host's ports.
enum GuestSystem {
    static func mountBasics() throws {
        let mounts: [(String, String, String, UInt)] = [
            ("proc", "/proc", "proc", UInt(MS_NOSUID | MS_NODEV | MS_NOEXEC)),
            ("sysfs", "/sys", "sysfs", UInt(MS_NOSUID | MS_NODEV | MS_NOEXEC)),
            ("devtmpfs", "/dev", "devtmpfs", UInt(MS_NOSUID)),
            ("tmpfs", "/run", "tmpfs", UInt(MS_NOSUID | MS_NODEV)),
            ("tmpfs", "/tmp", "tmpfs", UInt(MS_NOSUID | MS_NODEV)),
        ]
        for (source, target, type, flags) in mounts {
            try sys("mount \(target)", mount(source, target, type, flags, nil))
        }
        try sys("mount /sys/fs/cgroup", mount("cgroup2", "/sys/fs/cgroup", "cgroup2", UInt(MS_NOSUID | MS_NODEV | MS_NOEXEC), nil))
        mkdir("/dev/pts", 0o755)
        try sys("mount /dev/pts", mount("devpts", "/dev/pts", "devpts", UInt(MS_NOSUID | MS_NOEXEC), "newinstance,ptmxmode=0666"))
    }

    static func loadModules() throws {
        for module in Initramfs.modules {
            let path = "/lib/modules/\(module).ko"
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { continue }  // built into the kernel
            defer { close(fd) }
            if vessel_finit_module(fd) != 0 && errno != EEXIST { throw VesselError.system("load module \(module)") }
        }
    }

    /// The /dev node of each named port; the drivers create them shortly
    /// after loading, so wait (bounded) until every port is there.
    static func ports(expecting names: [String], timeoutSeconds: Int = 20) throws -> [String: String] {
        var found: [String: String] = [:]
        for _ in 0..<(timeoutSeconds * 100) {
            for device in FileIO.listDirectory("/sys/class/virtio-ports") {
                if let name = try? FileIO.read("/sys/class/virtio-ports/\(device)/name") {
                    let trimmed = name.filter { $0 != "\n" }
                    if FileIO.exists("/dev/\(device)") { found[trimmed] = "/dev/\(device)" }
                }
            }
            if names.allSatisfy({ found[$0] != nil }) { return found }
            usleep(10000)
        }
        let missing = names.filter { found[$0] == nil }
        throw VesselError.setup("virtio-serial ports missing in the guest: \(missing.joined(separator: ", "))")
    }

    static func mountShares(_ shares: [QemuCommand.Share]) throws {
        for share in shares {
            let target = GuestSpec.sharesRoot + "/" + share.tag
            mkdir(target, 0o755)
            var flags = UInt(0)
            if share.readOnly { flags |= UInt(MS_RDONLY) }
            try sys(
                "mount the 9p share \(share.tag) (\(share.hostPath)) on \(target)",
                mount(share.tag, target, "9p", flags, "trans=virtio,version=9p2000.L,msize=262144,cache=none"))
        }
    }

    /// QEMU's user-mode network: the guest is 10.0.2.15/24, the gateway
    /// (the host, NATed) 10.0.2.2, its DNS forwarder 10.0.2.3.
    static func bringUpNetwork(_ withDevice: Bool) throws {
        var rc = vessel_configure_interface("lo", nil, 8, nil)
        if rc < 0 { throw VesselError.system("bring up lo", errno: Errno(rawValue: -rc)) }
        guard withDevice else { return }
        rc = vessel_configure_interface("eth0", "10.0.2.15", 24, "10.0.2.2")
        if rc < 0 { throw VesselError.system("configure eth0 (10.0.2.15/24 via 10.0.2.2)", errno: Errno(rawValue: -rc)) }
    }
}
