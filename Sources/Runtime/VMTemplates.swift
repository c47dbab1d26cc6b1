import Errors
import MicroVM

// Whether a VM-mode container restores its guest from a template: yes
// unless templates are off (VESSEL_VM_TEMPLATES=off, or the annotation
// org.vessel.vm.template=off) or the VM has a network device (templates
// are made without one: a NIC's host side is per container).
public enum VMTemplates {
    public static let annotation = "org.vessel.vm.template"

    public enum Decision {
        case restore(TemplatePlan)
        case coldBoot(reason: String)
    }

    /// TCG's code cache for VMs made from templates: QEMU's default lets it
    /// grow to about 40 MiB per VM, more than the rest of a clone's memory.
    /// Smaller caches cost time (translations flushed and redone): measured
    /// here, 0.93 s to first output uncapped, 1.12 s at 24 MiB, 1.23 s at
    /// 20, 1.36 s at 16 (docs/decisions.md, "VM templates").
    public static let codeCacheMiB = 20

    /// Whether `command`'s VM restores from a template; when it does, the
    /// command gets what templates add (a capped TCG code cache).
    public static func decide(for command: inout QemuCommand, annotations: [String: String]?, settings: VMSettings, binary: String) -> Decision {
        if !settings.templatesEnabled { return .coldBoot(reason: "templates are off (VESSEL_VM_TEMPLATES)") }
        if let value = annotations?[annotation], ["off", "false", "no", "0"].contains(value.lowercased()) {
            return .coldBoot(reason: "templates are off (annotation \(annotation)=\(value))")
        }
        if command.network { return .coldBoot(reason: "a VM with a network device boots cold (templates have none)") }
        var capped = command
        capped.tcgCodeCacheMiB = codeCacheMiB
        do {
            let plan = TemplatePlan(directory: settings.templateDirectory, key: try TemplateKey(command: capped, binary: binary))
            command = capped
            return .restore(plan)
        } catch {
            return .coldBoot(reason: "no template key: \(error)")
        }
    }
}
