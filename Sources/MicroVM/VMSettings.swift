import Glibc

// Where the VM's parts are and how to run it: the global flags --vm-kernel,
// --vm-qemu, --vm-accel and --vm-boot-timeout, with defaults that match
// scripts/fetch-vm-kernel.sh.
public struct VMSettings: Codable, Sendable {
    /// vessel's own VM directory: the fetched kernel and the initramfs cache.
    public var directory: String
    public var kernel: String
    public var modules: String
    public var qemu: String
    public var accel: AcceleratorChoice
    public var bootTimeoutSeconds: Int
    /// Saved guests that `create` restores instead of booting (VMTemplate):
    /// $VESSEL_VM_TEMPLATE_DIR, else <directory>/templates; off with
    /// VESSEL_VM_TEMPLATES=off (or the annotation org.vessel.vm.template=off).
    public var templateDirectory: String
    public var templatesEnabled: Bool

    public static let defaultDirectory = "/var/lib/vessel/vm"

    public init(
        directory: String? = nil, kernel: String? = nil, qemu: String? = nil,
        accel: AcceleratorChoice = .auto, bootTimeoutSeconds: Int = 60
    ) {
        let directory = directory ?? getenv("VESSEL_VM_DIR").map { String(cString: $0) } ?? Self.defaultDirectory
        self.directory = directory
        // The uncompressed kernel boots faster (PVH entry, no self-decompression).
        self.kernel =
            kernel ?? [directory + "/kernel/vmlinux", directory + "/kernel/vmlinuz"]
            .first { access($0, R_OK) == 0 } ?? directory + "/kernel/vmlinuz"
        let kernelDirectory = String(self.kernel[..<(self.kernel.lastIndex(of: "/") ?? self.kernel.startIndex)])
        self.modules = (kernelDirectory.isEmpty ? "." : kernelDirectory) + "/modules"
        self.qemu = qemu ?? "qemu-system-x86_64"
        self.accel = accel
        self.bootTimeoutSeconds = bootTimeoutSeconds
        let environment = { (name: String) in getenv(name).map { String(cString: $0) } }
        templateDirectory = environment("VESSEL_VM_TEMPLATE_DIR").flatMap { $0.isEmpty ? nil : $0 } ?? directory + "/templates"
        templatesEnabled = !["off", "0", "no", "false"].contains(environment("VESSEL_VM_TEMPLATES")?.lowercased() ?? "")
    }

    public var initramfsCache: String { directory + "/initramfs" }
}

public enum AcceleratorChoice: String, Codable, Sendable, CaseIterable {
    case auto, kvm, tcg
}
