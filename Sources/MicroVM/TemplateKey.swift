import Errors

// Everything a saved guest shares with the VMs restored from it, as text:
// the files that make the guest (QEMU, kernel, initramfs, and vessel, the
// guest's agent and the host's supervisor, which must speak one protocol)
// by identity, and QEMU's command line with the per-container parts taken
// out. That line holds the machine, accelerator and CPU model, vCPUs,
// memory size, every device (shares, serial ports, network) and the kernel
// command line with its tsc_early_khz. Any change makes another key, so a
// template is never restored into a VM it does not fit.
public struct TemplateKey: Codable, Sendable, Equatable {
    public static let format = 1

    public let text: String
    /// The template's name: FNV-1a of `text` (the text itself is compared
    /// before a restore, so a collision cannot restore the wrong guest).
    public let hash: String
    /// The files' identities when the key was made, by path (a template
    /// whose files changed since is stale and pruned).
    public let inputs: [String: String]

    public init(command: QemuCommand, binary: String) throws(VesselError) {
        var lines = ["vessel-template \(Self.format)"]
        var inputs: [String: String] = [:]
        for (name, path) in [("qemu", command.qemu), ("kernel", command.kernel), ("initramfs", command.initramfs), ("vessel", binary)] {
            let identity = try FileIdentity.of(path)
            inputs[path] = identity
            lines.append("\(name) \(path) \(identity)")
        }
        lines.append("argv " + command.shape.arguments.joined(separator: " "))
        text = lines.joined(separator: "\n")
        hash = FileIdentity.hash(text)
        self.inputs = inputs
    }

    /// Whether every input file is still the one the key was made from.
    public var isCurrent: Bool {
        inputs.allSatisfy { path, identity in (try? FileIdentity.of(path)) == identity }
    }
}
