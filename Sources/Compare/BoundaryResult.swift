// What one boundary probe met in one mode: allowed (and by which kernel),
// denied and by what, absent from the kernel, or skipped with the reason.
public struct BoundaryResult: Codable, Sendable, Equatable {
    public enum Outcome: String, Codable, Sendable {
        case allowed, denied, absent, skipped
    }

    public enum Stopper: String, Codable, Sendable {
        case seccomp
        case capability
        case deviceCgroup = "device cgroup"
        case namespace
        case readOnlyMount = "read-only mount"
        case maskedPath = "masked path"
        case kernelPolicy = "kernel policy"
        case unexplained
    }

    public var probe: String
    /// A short name for a sentence.
    public var name: String
    public var title: String
    public var risk: String
    /// The kernel that answered: "host" or "guest".
    public var kernel: String
    public var outcome: Outcome
    public var deniedBy: Stopper?
    /// What happened and why, from the errno and the bundle's config.
    public var reason: String
    public var steps: [ProbeStep]

    /// A table cell that names the kernel: "host: allowed", "guest: denied by seccomp".
    public var cell: String {
        switch outcome {
        case .allowed: return kernel == "guest" ? "guest: allowed (guest kernel only)" : "\(kernel): allowed"
        case .denied: return "\(kernel): denied by \(deniedBy?.rawValue ?? "?")"
        case .absent: return "\(kernel): absent from the kernel"
        case .skipped: return "\(kernel): skipped"
        }
    }

    /// Whether the call reached the host's kernel unopposed.
    public var reachedHostKernel: Bool { outcome == .allowed && kernel == "host" }
}
