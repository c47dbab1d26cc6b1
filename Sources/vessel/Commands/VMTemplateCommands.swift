import Errors
import ArgumentParser
import FoundationEssentials
import Glibc
import MicroVM
import OSKit
import Runtime

// `vessel vm template build|list|rm`: the saved guests that VM-mode
// `create` restores instead of booting (docs/decisions.md, "VM templates").
struct VMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vm", abstract: "VM mode's own files.",
        subcommands: [VMTemplateCommand.self, VMPoolCommand.self])
}

struct VMTemplateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "template",
        abstract: "Saved guests that `create` restores instead of booting ($VESSEL_VM_TEMPLATE_DIR, default /var/lib/vessel/vm/templates).",
        subcommands: [Build.self, List.self, Remove.self])

    struct Build: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make the template for a guest of this shape now (create would make it on first need).")
        @OptionGroup var global: GlobalOptions
        @Option(help: "vCPUs (a container's: its CPU quota or cpuset).") var vcpus = 1
        @Option(help: "Guest memory in MiB (a container's: its memory limit + \(GuestSize.overheadMiB)).") var memory = GuestSize.defaultMemoryMiB
        @Option(help: "Shared directories: the rootfs and its bind mounts' directories (1 to \(GuestSpec.maxBindShares + 1)).") var shares = 1

        func run() throws {
            try perform(global) {
                let hostCPUs = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
                guard (1...hostCPUs).contains(vcpus) else { throw VesselError.invalidArgument("--vcpus must be 1 to \(hostCPUs)") }
                guard memory >= 64 else { throw VesselError.invalidArgument("--memory must be at least 64 (MiB)") }
                guard (1...(GuestSpec.maxBindShares + 1)).contains(shares) else {
                    throw VesselError.invalidArgument("--shares must be 1 to \(GuestSpec.maxBindShares + 1)")
                }
                if Privileges.isRootless { throw VesselError.unsupported("vm: templates need root, as VM mode does") }
                let settings = global.vmSettings
                guard FileIO.exists(settings.kernel) else {
                    throw VesselError.unusable("no guest kernel at \(settings.kernel): run scripts/fetch-vm-kernel.sh, or give --vm-kernel")
                }
                let binary = try FileIO.realPath("/proc/self/exe")
                let decision = try Accelerator.choose(settings.accel)
                var command = try VMCreator.qemuCommand(
                    settings: settings, qemu: try VMSupervisor.resolve(settings.qemu), accelerator: decision.accelerator,
                    size: GuestSize(vcpus: vcpus, memoryMiB: memory), directory: "/",
                    shares: (0..<shares).map { QemuCommand.Share(tag: GuestSpec.shareTag($0), hostPath: "/", readOnly: false) },
                    binary: binary)
                // The key `create` would compute for a container of this shape.
                let plan: TemplatePlan
                switch VMTemplates.decide(for: &command, annotations: nil, settings: settings, binary: binary) {
                case let .restore(made): plan = made
                case let .coldBoot(reason): throw VesselError.unsupported("vm template build: " + reason)
                }
                let key = plan.key
                let store = TemplateStore(directory: plan.directory)
                let (template, built) = try store.obtain(key, lockTimeoutSeconds: Double(settings.bootTimeoutSeconds)) {
                    try TemplateBuilder(store: store, key: key, command: command, bootTimeoutSeconds: settings.bootTimeoutSeconds).build()
                }
                print("\(key.hash) \(built ? "built in \(template.info.buildTime)" : "already there") (\(store.path(key.hash)))")
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the templates.")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            try perform(global) {
                let store = TemplateStore(directory: global.vmSettings.templateDirectory)
                var rows = [["TEMPLATE", "VCPUS", "MEMORY", "SHARES", "KERNEL", "DISK", "BUILD", "STATUS"]]
                for listed in store.list() {
                    let disk = "\(listed.diskBytes >> 20) MiB"
                    guard let info = listed.info else {
                        rows.append([listed.hash, "-", "-", "-", "-", disk, "-", "incomplete"])
                        continue
                    }
                    let status =
                        !info.key.isCurrent
                        ? "stale (its vessel, kernel or QEMU changed)"
                        : info.hostBootID != TemplateStore.hostBootID() ? "stale (an earlier boot of the host)" : "current"
                    rows.append([
                        listed.hash, "\(info.vcpus)", "\(info.memoryMiB) MiB", "\(info.shares)", info.kernelRelease,
                        disk, info.buildTime, status,
                    ])
                }
                let widths = (0..<rows[0].count).map { column in (rows.map { $0[column].count }.max() ?? 0) + 3 }
                for row in rows {
                    print(
                        row.dropLast().enumerated().map { $1 + String(repeating: " ", count: widths[$0] - $1.count) }.joined()
                            + (row.last ?? ""))
                }
            }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove templates (VMs restored from them keep running).")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Remove every template.") var all = false
        @Argument(help: "Templates, as `list` names them.") var templates: [String] = []

        func run() throws {
            try perform(global) {
                let store = TemplateStore(directory: global.vmSettings.templateDirectory)
                guard all != !templates.isEmpty else { throw VesselError.invalidArgument("vm template rm: name templates, or give --all") }
                let names = all ? store.list().map(\.hash) : templates
                for name in names {
                    guard !name.isEmpty, !name.contains("/"), !name.hasPrefix(".") else {
                        throw VesselError.invalidArgument("vm template rm: \(name.debugDescription) is not a template name")
                    }
                    guard store.remove(name) else { throw VesselError.invalidArgument("vm template rm: no template \(name)") }
                }
            }
        }
    }
}
