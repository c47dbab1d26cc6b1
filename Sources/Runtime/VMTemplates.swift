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

    public static func decide(for command: QemuCommand, annotations: [String: String]?, settings: VMSettings, binary: String) -> Decision {
        if !settings.templatesEnabled { return .coldBoot(reason: "templates are off (VESSEL_VM_TEMPLATES)") }
        if let value = annotations?[annotation], ["off", "false", "no", "0"].contains(value.lowercased()) {
            return .coldBoot(reason: "templates are off (annotation \(annotation)=\(value))")
        }
        if command.network { return .coldBoot(reason: "a VM with a network device boots cold (templates have none)") }
        do {
            return .restore(TemplatePlan(directory: settings.templateDirectory, key: try TemplateKey(command: command, binary: binary)))
        } catch {
            return .coldBoot(reason: "no template key: \(error)")
        }
    }
}
