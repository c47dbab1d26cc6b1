// The runtime-spec features document (features.md) that `vessel features`
// prints: it lists only what vessel implements.
public struct Features: Codable, Sendable {
    public var ociVersionMin = "1.0.0"
    public var ociVersionMax = SpecVersion.maximum
    public var hooks = ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"]
    public var mountOptions: [String]
    public var linux: LinuxFeatures
    public var annotations: [String: String]
    /// Annotations that change how the container runs (runtime-spec 1.2):
    /// vessel's switch to VM mode.
    public var potentiallyUnsafeConfigAnnotations = ["org.vessel.isolation"]

    public struct LinuxFeatures: Codable, Sendable {
        public var namespaces = NamespaceType.allCases.map(\.rawValue)
        public var capabilities: [String]
        public var cgroup = Cgroup()
        public var seccomp: SeccompFeatures
        public var apparmor = Enabled(enabled: false)
        public var selinux = Enabled(enabled: false)
        public var intelRdt = Enabled(enabled: false)
        public var mountExtensions = MountExtensions()
        public var netDevices = Enabled(enabled: true)
    }

    public struct MountExtensions: Codable, Sendable {
        public var idmap = Enabled(enabled: true)
    }

    public struct Cgroup: Codable, Sendable {
        public var v1 = false
        public var v2 = true
        public var systemd = false
        public var systemdUser = false
    }

    public struct SeccompFeatures: Codable, Sendable {
        public var enabled = true
        public var actions: [String]
        public var operators: [String]
        public var archs: [String]
        public var knownFlags = ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"]
        public var supportedFlags = ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"]
    }

    public struct Enabled: Codable, Sendable {
        public var enabled: Bool
    }

    public init(capabilities: [String], mountOptions: [String], libseccompVersion: String) {
        self.mountOptions = mountOptions
        linux = LinuxFeatures(
            capabilities: capabilities,
            seccomp: SeccompFeatures(
                actions: SpecValidator.seccompActions.sorted(),
                operators: SpecValidator.seccompOperators.sorted(),
                archs: ["SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]))
        annotations = ["org.vessel.libseccomp.version": libseccompVersion]
    }
}
