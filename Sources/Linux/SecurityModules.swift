import OSKit
import Errors
import OCI

// process.apparmorProfile, process.selinuxLabel and linux.mountLabel: applied
// where the host runs the module, as runc does; where it does not, `create`
// warns once per field, so a requested confinement is never dropped
// without a word.
public enum SecurityModules {
    public static var appArmorEnabled: Bool {
        ((try? FileIO.read("/sys/module/apparmor/parameters/enabled")) ?? "").hasPrefix("Y")
    }

    public static var seLinuxEnabled: Bool { FileIO.exists("/sys/fs/selinux/enforce") }

    /// Warnings for requested labels this host cannot apply.
    public static func warnings(for spec: Spec) -> [String] {
        var warnings: [String] = []
        if let profile = spec.process?.apparmorProfile, !profile.isEmpty, !appArmorEnabled {
            warnings.append("config.json: process.apparmorProfile: AppArmor is not enabled on this host; profile \(profile.debugDescription) is not applied")
        }
        if let label = spec.process?.selinuxLabel, !label.isEmpty, !seLinuxEnabled {
            warnings.append("config.json: process.selinuxLabel: SELinux is not enabled on this host; label \(label.debugDescription) is not applied")
        }
        if let label = spec.linux?.mountLabel, !label.isEmpty, !seLinuxEnabled {
            warnings.append("config.json: linux.mountLabel: SELinux is not enabled on this host; label \(label.debugDescription) is not applied")
        }
        return warnings
    }

    /// Refusals for labels the host could apply but vessel does not yet.
    public static func unsupported(in spec: Spec) -> String? {
        if let label = spec.linux?.mountLabel, !label.isEmpty, seLinuxEnabled {
            return "config.json: linux.mountLabel: SELinux mount labels are not implemented in vessel; refusing to run the container unlabelled"
        }
        return nil
    }

    /// In the init, just before exec: the labels the process gets at execve,
    /// written through the checked procfs.
    static func applyExecLabels(_ process: Process) throws {
        let profile = process.apparmorProfile ?? ""
        let label = process.selinuxLabel ?? ""
        let wantsAppArmor = !profile.isEmpty && appArmorEnabled
        let wantsSELinux = !label.isEmpty && seLinuxEnabled
        guard wantsAppArmor || wantsSELinux else { return }
        let proc = try ProcFS()
        defer { proc.close() }
        if wantsAppArmor {
            do {
                try proc.write("thread-self/attr/apparmor/exec", "exec \(profile)")
            } catch {
                do {
                    try proc.write("thread-self/attr/exec", "exec \(profile)")
                } catch {
                    throw VesselError(error).wrapped("config.json: process.apparmorProfile: cannot apply \(profile.debugDescription)", field: "process.apparmorProfile")
                }
            }
        }
        if wantsSELinux {
            do {
                try proc.write("thread-self/attr/exec", label)
            } catch {
                throw VesselError(error).wrapped("config.json: process.selinuxLabel: cannot apply \(label.debugDescription)", field: "process.selinuxLabel")
            }
        }
    }
}
