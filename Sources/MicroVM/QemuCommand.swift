// QEMU's command line for one container: the microvm machine with no
// default devices, Debian's kernel and vessel's initramfs, the guest
// console in a log file, the bundle's directories shared over virtio-9p and
// every port of GuestPorts on one virtio-serial device.
public struct QemuCommand: Codable, Sendable {
    public struct Share: Codable, Sendable, Equatable {
        public var tag: String
        public var hostPath: String
        public var readOnly: Bool
        public init(tag: String, hostPath: String, readOnly: Bool) {
            self.tag = tag
            self.hostPath = hostPath
            self.readOnly = readOnly
        }
    }

    public var qemu: String
    public var kernel: String
    public var initramfs: String
    public var accelerator: Accelerator
    public var size: GuestSize
    /// The container's VM directory: sockets and the console log.
    public var directory: String
    /// How QEMU reaches `directory` for its sockets, when the path is too
    /// long for sockaddr_un: /proc/self/fd/<n> of a descriptor it inherits
    /// (SocketDirectory.inheritable). nil: the directory's own path.
    public var socketDirectory: String?
    public var shares: [Share]
    /// The host's TSC rate, given to a TCG guest (whose TSC runs at it).
    public var tscKHz: Int?
    /// A virtio-net device on QEMU's user-mode network (NAT, no host setup).
    public var network = false
    /// The guest's exec slots (GuestPorts).
    public var execSlots = GuestPorts.defaultExecSlots
    /// virtio-net devices on taps QEMU inherits (fd number, guest MAC).
    public var taps: [Tap] = []

    public struct Tap: Codable, Sendable, Equatable {
        public var fd: Int32
        public var mac: String
        public init(fd: Int32, mac: String) {
            self.fd = fd
            self.mac = mac
        }
    }
    /// TCG's translated-code cache in MiB (tb-size); nil: QEMU's default,
    /// which grows to about 40 MiB per VM (see VMTemplates).
    public var tcgCodeCacheMiB: Int?

    public init(
        qemu: String, kernel: String, initramfs: String, accelerator: Accelerator, size: GuestSize,
        directory: String, shares: [Share], tscKHz: Int? = nil
    ) {
        self.tscKHz = tscKHz
        self.qemu = qemu
        self.kernel = kernel
        self.initramfs = initramfs
        self.accelerator = accelerator
        self.size = size
        self.directory = directory
        self.shares = shares
    }

    /// panic=-1 with -no-reboot: a guest panic ends QEMU at once. Under TCG
    /// on a loaded host the guest's PIT calibration of the TSC fails and the
    /// boot then hangs for good: tsc_early_khz skips that calibration.
    public var kernelArguments: String {
        "console=ttyS0 quiet panic=-1 tsc=reliable no_timer_check" + (tscKHz.map { " tsc_early_khz=\($0)" } ?? "")
            + (execSlots == GuestPorts.defaultExecSlots ? "" : " \(GuestPorts.kernelArgument)\(execSlots)")
    }

    /// The host's TSC rate as /proc/cpuinfo gives it ("cpu MHz").
    public static func hostTSCKHz(cpuinfo: String) -> Int? {
        for line in cpuinfo.split(separator: "\n") where line.hasPrefix("cpu MHz") {
            guard let value = line.split(separator: ":").last.flatMap({ Double($0.filter { $0 != " " && $0 != "\t" }) }) else { return nil }
            return Int(value * 1000)
        }
        return nil
    }

    public static let sandbox = "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny"

    public var consoleLog: String { directory + "/console.log" }

    public var arguments: [String] {
        var arguments = [
            qemu, "-M", "microvm", "-accel", accelerator.rawValue + (accelerator == .tcg ? tcgCodeCacheMiB.map { ",tb-size=\($0)" } ?? "" : ""),
            "-cpu", accelerator == .kvm ? "host" : "max",
            "-smp", "\(size.vcpus)", "-m", "\(size.memoryMiB)M",
            "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
            // QEMU's own seccomp filter: the VMM cannot exec, raise its
            // privileges or use obsolete system calls.
            "-sandbox", Self.sandbox,
            "-serial", "file:\(Self.escaped(consoleLog))",
            "-kernel", kernel, "-initrd", initramfs, "-append", kernelArguments,
        ]
        for (index, share) in shares.enumerated() {
            var fsdev = "local,id=fs\(index),path=\(Self.escaped(share.hostPath)),security_model=passthrough,multidevs=remap"
            if share.readOnly { fsdev += ",readonly=on" }
            arguments += ["-fsdev", fsdev, "-device", "virtio-9p-device,fsdev=fs\(index),mount_tag=\(share.tag)"]
        }
        if network {
            arguments += ["-netdev", "user,id=net0", "-device", "virtio-net-device,netdev=net0"]
        }
        for (index, tap) in taps.enumerated() {
            arguments += ["-netdev", "tap,id=tap\(index),fd=\(tap.fd)", "-device", "virtio-net-device,netdev=tap\(index),mac=\(tap.mac)"]
        }
        // Port 0 is the console's, which the guest does not use.
        let ports = GuestPorts.all(execSlots: execSlots)
        arguments += ["-device", "virtio-serial-device,max_ports=\(ports.count + 1)"]
        for (index, port) in ports.enumerated() {
            let socket = GuestPorts.socket(port, in: socketDirectory ?? directory)
            arguments += [
                "-chardev", "socket,id=p\(index),path=\(Self.escaped(socket)),server=on,wait=off",
                "-device", "virtserialport,chardev=p\(index),name=\(port)",
            ]
        }
        return arguments
    }

    /// QEMU's option syntax doubles a comma inside a value.
    static func escaped(_ value: String) -> String { value.replacing(",", with: ",,") }
}
