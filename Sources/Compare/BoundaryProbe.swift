import Glibc

// The catalogue of what bundles/probe/boundary.c tries, with what the
// kernel asks of a caller for each step: the facts the classifier needs
// besides the errno and the bundle's config.
struct BoundaryProbe: Sendable {
    let id: String
    /// A short name for a sentence: "io_uring", "a host block device".
    let name: String
    /// What is tried, in a few words.
    let title: String
    /// Why it matters, with a known CVE where there is one.
    let risk: String
    /// Per step: capabilities any one of which passes the kernel's check.
    let capabilities: [String: [String]]
    /// Whether those capabilities are always needed, or only where a knob says so.
    let alwaysNeedsCapability: Bool
    let knobs: [PolicyKnob]
    /// Per step: errnos that mean the call passed its permission check and
    /// only the probe's deliberately invalid argument stopped it.
    let passedCheck: [String: Set<Int32>]

    init(
        _ id: String, _ name: String, _ title: String, risk: String, capabilities: [String: [String]] = [:], always: Bool = false,
        knobs: [PolicyKnob] = [], passedCheck: [String: Set<Int32>] = [:]
    ) {
        self.id = id
        self.name = name
        self.title = title
        self.risk = risk
        self.capabilities = capabilities
        self.alwaysNeedsCapability = always
        self.knobs = knobs
        self.passedCheck = passedCheck
    }

    /// mknod of a device node (CAP_MKNOD), then an open the device cgroup decides.
    static func mknod(_ id: String, _ name: String, _ title: String, risk: String) -> BoundaryProbe {
        BoundaryProbe(id, name, title, risk: risk, capabilities: ["mknod": ["CAP_MKNOD"]], always: true)
    }

    /// An open for writing of a root-owned file: a process that is not its
    /// owner needs CAP_DAC_OVERRIDE.
    static func rootFileWrite(_ id: String, _ name: String, _ title: String, risk: String) -> BoundaryProbe {
        BoundaryProbe(id, name, title, risk: risk, capabilities: ["open-write": ["CAP_DAC_OVERRIDE"]], always: true)
    }

    static let all: [BoundaryProbe] = [
        BoundaryProbe(
            "userns-mount", "user-namespace mounts", "unshare(CLONE_NEWUSER), then mount inside it",
            risk: "user-namespace root reaches filesystem and netfilter code written for real root (CVE-2022-0185, CVE-2023-32233)",
            capabilities: ["unshare": ["CAP_SYS_ADMIN"]],
            knobs: [
                PolicyKnob("kernel.unprivileged_userns_clone", needsCapability: { $0 == "0" }),
                PolicyKnob("user.max_user_namespaces", blocksEveryone: { $0 == "0" }),
            ]),
        BoundaryProbe(
            "io_uring", "io_uring", "io_uring_setup",
            risk: "a large share of recent kernel privilege escalations (CVE-2022-29582, CVE-2023-2598)",
            capabilities: ["setup": ["CAP_SYS_ADMIN"]],
            knobs: [PolicyKnob("kernel.io_uring_disabled", needsCapability: { $0 == "1" }, blocksEveryone: { $0 == "2" })]),
        BoundaryProbe(
            "bpf", "bpf", "bpf: load a two-instruction socket filter",
            risk: "verifier bugs become kernel memory access (CVE-2021-3490, CVE-2021-31440)",
            capabilities: ["prog-load": ["CAP_BPF", "CAP_SYS_ADMIN"]],
            knobs: [PolicyKnob("kernel.unprivileged_bpf_disabled", needsCapability: { $0 != "0" })]),
        BoundaryProbe(
            "userfaultfd", "userfaultfd", "userfaultfd (kernel faults too)",
            risk: "pauses the kernel in the middle of a copy: how many exploits win their race",
            capabilities: ["create": ["CAP_SYS_PTRACE"]],
            knobs: [PolicyKnob("vm.unprivileged_userfaultfd", needsCapability: { $0 == "0" })]),
        BoundaryProbe(
            "perf_event_open", "perf events", "perf_event_open of its own CPU clock",
            risk: "perf events have had privilege escalations (CVE-2013-2094, CVE-2023-2235)",
            capabilities: ["open": ["CAP_PERFMON", "CAP_SYS_ADMIN"]],
            knobs: [PolicyKnob("kernel.perf_event_paranoid", needsCapability: { (Int($0) ?? 0) > 2 })]),
        BoundaryProbe(
            "keyring", "the keyring", "add_key and keyctl in its own keyring",
            risk: "the kernel keyring is not namespaced (CVE-2016-0728)"),
        BoundaryProbe(
            "ptrace", "ptrace", "ptrace a sibling process",
            risk: "reads and steers another process (CVE-2019-13272)",
            capabilities: ["seize": ["CAP_SYS_PTRACE"]],
            knobs: [PolicyKnob("kernel.yama.ptrace_scope", needsCapability: { $0 == "1" || $0 == "2" }, blocksEveryone: { $0 == "3" })]),
        BoundaryProbe(
            "kexec_load", "kexec_load", "kexec_load (invalid: loads nothing)",
            risk: "replaces the running kernel",
            capabilities: ["load": ["CAP_SYS_BOOT"]], always: true,
            knobs: [PolicyKnob("kernel.kexec_load_disabled", blocksEveryone: { $0 == "1" })],
            passedCheck: ["load": [EINVAL]]),
        BoundaryProbe(
            "init_module", "init_module", "init_module (empty: loads nothing)",
            risk: "runs code of its choosing in the kernel",
            capabilities: ["load": ["CAP_SYS_MODULE"]], always: true,
            knobs: [PolicyKnob("kernel.modules_disabled", blocksEveryone: { $0 == "1" })],
            passedCheck: ["load": [ENOEXEC]]),
        BoundaryProbe(
            "open_by_handle_at", "open_by_handle_at", "open_by_handle_at (Shocker)",
            risk: "opens any inode of the filesystem, outside the container's root (the Shocker escape)",
            capabilities: ["open": ["CAP_DAC_READ_SEARCH"]], always: true,
            passedCheck: ["open": [ESTALE]]),
        mknod(
            "device-char", "a host character device", "mknod a host character device (kmsg), then open it",
            risk: "host devices: the kernel log, memory, terminals"),
        mknod(
            "device-block", "a host block device", "mknod a host block device, then open it",
            risk: "raw reads and writes of the host's disk"),
        rootFileWrite(
            "proc-sys-write", "/proc/sys", "open /proc/sys/kernel/core_pattern for writing",
            risk: "core_pattern runs a program as root on the host when any process crashes"),
        rootFileWrite(
            "sysrq-trigger", "sysrq-trigger", "open /proc/sysrq-trigger for writing (never written)",
            risk: "one byte crashes or reboots the machine"),
        rootFileWrite(
            "sys-write", "/sys", "open a /sys/kernel file for writing",
            risk: "/sys/kernel/uevent_helper runs a program as root on the host"),
    ]
}
