import Errors
import Glibc
import OSKit

// KVM when it can boot a stock guest kernel, else TCG. A PVM KVM (the
// kvm_pvm module) opens /dev/kvm fine but fails Debian's kernel with
// "emulation failure", so auto treats it as no KVM and says why.
public enum Accelerator: String, Codable, Sendable {
    case kvm, tcg

    public struct Decision: Sendable {
        public let accelerator: Accelerator
        public let reason: String
    }

    public static func choose(_ choice: AcceleratorChoice, sysModule: String = "/sys/module") throws -> Decision {
        let kvmOpens = access("/dev/kvm", R_OK | W_OK) == 0
        let pvm = FileIO.isDirectory(sysModule + "/kvm_pvm")
        let hardware = FileIO.isDirectory(sysModule + "/kvm_intel") || FileIO.isDirectory(sysModule + "/kvm_amd")
        switch choice {
        case .tcg:
            return Decision(accelerator: .tcg, reason: "--vm-accel tcg")
        case .kvm:
            guard kvmOpens else { throw VesselError.unusable("--vm-accel kvm: /dev/kvm cannot be opened read-write") }
            return Decision(accelerator: .kvm, reason: "--vm-accel kvm")
        case .auto:
            if kvmOpens && hardware && !pvm { return Decision(accelerator: .kvm, reason: "/dev/kvm is hardware KVM") }
            if pvm { return Decision(accelerator: .tcg, reason: "/dev/kvm is PVM KVM (kvm_pvm), which cannot boot a stock kernel: using TCG") }
            return Decision(accelerator: .tcg, reason: "no usable /dev/kvm: using TCG (software emulation)")
        }
    }
}
