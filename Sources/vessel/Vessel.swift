import ArgumentParser
import CVessel
import MicroVM
import OCI

struct Vessel: ParsableCommand {
    static let version = "0.1.0"

    static var versionText: String {
        let lib = seccomp_version()
        let seccomp = lib.map { "\($0.pointee.major).\($0.pointee.minor).\($0.pointee.micro)" } ?? "unknown"
        // runc's shape; Docker reads the `commit:` line (vessel's release).
        return "vessel version \(version)\ncommit: \(version)\nspec: \(SpecVersion.current)\nlibseccomp: \(seccomp)"
    }

    static let configuration = CommandConfiguration(
        commandName: "vessel",
        abstract: "An OCI container runtime, command-line compatible with runc.",
        version: versionText,
        subcommands: [
            SpecCommand.self, CreateCommand.self, StartCommand.self, RunCommand.self, StateCommand.self,
            ListCommand.self, KillCommand.self, DeleteCommand.self, PauseCommand.self, ResumeCommand.self,
            PsCommand.self, FeaturesCommand.self, ExecCommand.self, UnsupportedCommand.Checkpoint.self,
            UnsupportedCommand.Restore.self, UpdateCommand.self, EventsCommand.self, CompareCommand.self, VMCommand.self,
        ]
    )
}

/// Global flags, runc's names; engines put them before the subcommand, and
/// ArgumentParser accepts them there when every subcommand includes them.
struct GlobalOptions: ParsableArguments {
    @Option(name: OptionTable.root.names, help: "Root directory for container state (default /run/vessel; rootless, $XDG_RUNTIME_DIR/vessel).")
    var root: String?

    @Option(name: OptionTable.log.names, help: "Also write log messages to this file.")
    var log: String?

    @Option(name: OptionTable.logFormat.names, help: "Log format: text or json.")
    var logFormat: LogFormat = .text

    @Flag(name: OptionTable.debug.names, help: "Log debug messages.")
    var debug = false

    @Flag(name: .customLong("systemd-cgroup"), help: "Manage cgroups through systemd (not supported).")
    var systemdCgroup = false

    @Option(name: .customLong("criu"), help: .hidden)
    var criu: String?

    @Flag(help: "Run containers created by this call in a microVM (as does the name vessel-vm).")
    var vm = false

    @Option(name: .customLong("vm-accel"), help: "VM accelerator: auto (KVM if it can boot a stock kernel, else TCG), kvm or tcg.")
    var vmAccel: AcceleratorChoice = .auto

    @Option(name: .customLong("vm-kernel"), help: "Guest kernel (default /var/lib/vessel/vm/kernel/vmlinuz, modules beside it).")
    var vmKernel: String?

    @Option(name: .customLong("vm-qemu"), help: "QEMU binary (default qemu-system-x86_64 on PATH).")
    var vmQemu: String?

    @Option(name: .customLong("vm-boot-timeout"), help: "Seconds to wait for the guest agent.")
    var vmBootTimeout: Int = 60

    var vmSettings: VMSettings {
        VMSettings(kernel: vmKernel, qemu: vmQemu, accel: vmAccel, bootTimeoutSeconds: max(1, vmBootTimeout))
    }

    var settings: GlobalSettings {
        GlobalSettings(
            root: root, log: log, logFormat: logFormat, debug: debug, systemdCgroup: systemdCgroup,
            vm: vm, vmSettings: vmSettings)
    }
}

extension AcceleratorChoice: ExpressibleByArgument {}

enum LogFormat: String, ExpressibleByArgument {
    case text, json
}
