// The result of `vessel compare`: the same bundle in linux and VM mode,
// side by side under Popek and Goldberg's three headings (equivalence,
// safety, performance), with the raw facts and one verdict per line.
public struct Comparison: Codable, Sendable {
    public struct ModeResult: Codable, Sendable {
        public var mode: String
        public var stdout: String
        public var stderr: String
        public var exitStatus: Int32
        /// Whose kernel the workload talks to: "host" or "guest".
        public var kernelOwner: String
        public var probe: ProbeReport
        /// The probe saw a process of the host (vessel compare itself).
        public var hostProcessesVisible: Bool
        /// Host system calls the workload can make directly.
        public var hostSyscalls: Int
        public var firstOutputMilliseconds: [Double]
        public var exitMilliseconds: [Double]
        public var hostMemoryMiB: Double
        public var diskWrittenBytes: Int
        public var accelerator: String?
    }

    public struct Row: Codable, Sendable {
        public var section: String
        public var measure: String
        public var linux: String
        public var vm: String
        public var verdict: String
    }

    public var bundle: String
    public var runs: Int
    public var hostKernel: String
    public var hostCPUs: Int
    public var knownSyscalls: Int
    public var vmmSurface: String
    public var linux: ModeResult
    public var vm: ModeResult
    public var rows: [Row]
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return 0 }
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

extension Comparison {
    /// The lines of the report, each with a plain-language verdict.
    static func rows(linux: ModeResult, vm: ModeResult, hostKernel: String, knownSyscalls: Int, vmmSurface: String) -> [Row] {
        var rows: [Row] = []
        func add(_ section: String, _ measure: String, _ l: String, _ v: String, _ verdict: String) {
            rows.append(Row(section: section, measure: measure, linux: l, vm: v, verdict: verdict))
        }
        let sameOutput = linux.stdout == vm.stdout && linux.stderr == vm.stderr
        add("equivalence", "output (stdout, stderr)", "\(linux.stdout.utf8.count) + \(linux.stderr.utf8.count) bytes",
            "\(vm.stdout.utf8.count) + \(vm.stderr.utf8.count) bytes",
            sameOutput ? "The same bytes in both modes." : "The output differs: \(firstDifference(linux.stdout + linux.stderr, vm.stdout + vm.stderr)).")
        add("equivalence", "exit status", "\(linux.exitStatus)", "\(vm.exitStatus)",
            linux.exitStatus == vm.exitStatus ? "The same exit status." : "The exit status differs.")
        add("equivalence", "kernel version seen", linux.probe.kernel, vm.probe.kernel,
            linux.probe.kernel == vm.probe.kernel ? "Both see the same kernel version." : "Expected to differ: each mode reports the kernel that runs it.")

        add("safety", "kernel the workload talks to", "host's (\(linux.probe.kernel))", "guest's (\(vm.probe.kernel))",
            "In VM mode a kernel exploit reaches the guest kernel, not the host's \(hostKernel).")
        add("safety", "host system calls reachable", "\(linux.hostSyscalls) of \(knownSyscalls)", "0",
            "Linux mode's boundary is its seccomp profile; in VM mode the host sees only the VMM: \(vmmSurface).")
        add("safety", "host processes visible", visibility(linux), visibility(vm),
            linux.hostProcessesVisible && !vm.hostProcessesVisible ? "Shared with the host in linux mode (no pid namespace); the VM has its own."
                : (vm.hostProcessesVisible ? "The VM shows host processes: that should not happen." : "Neither mode shows the host's processes."))
        add("safety", "mounts visible", "\(linux.probe.mounts)", "\(vm.probe.mounts)", "In VM mode the mounts are the guest's.")
        add("safety", "/dev and /sys entries", "\(linux.probe.devEntries), \(linux.probe.sysEntries)",
            "\(vm.probe.devEntries), \(vm.probe.sysEntries)", "In VM mode /sys describes virtual hardware, not the host's.")
        add("safety", "kernel keyring entries", "\(linux.probe.keys)", "\(vm.probe.keys)", "In VM mode the keyring is the guest kernel's.")
        add("safety", "network interfaces", list(linux.probe.networkInterfaces), list(vm.probe.networkInterfaces),
            vm.probe.networkInterfaces.allSatisfy { $0 == "lo" } ? "The VM has no network device: loopback only."
                : "The VM's interfaces are virtual (QEMU's user-mode NAT), not the host's.")
        add("safety", "seccomp mode, CapEff", "\(linux.probe.seccompMode), \(linux.probe.effectiveCapabilities)",
            "\(vm.probe.seccompMode), \(vm.probe.effectiveCapabilities)",
            "The same profile and capabilities apply inside the VM as well.")

        let firstL = median(linux.firstOutputMilliseconds), firstV = median(vm.firstOutputMilliseconds)
        let exitL = median(linux.exitMilliseconds), exitV = median(vm.exitMilliseconds)
        add("performance", "time to first output (median)", milliseconds(firstL), milliseconds(firstV),
            "VM mode takes \(ratio(firstV, firstL)) as long\(vm.accelerator.map { " (\($0))" } ?? "").")
        add("performance", "time to exit (median)", milliseconds(exitL), milliseconds(exitV), "VM mode takes \(ratio(exitV, exitL)) as long.")
        add("performance", "host memory (runtime, supervisor, VMM)", mebibytes(linux.hostMemoryMiB), mebibytes(vm.hostMemoryMiB),
            "VM mode uses \(mebibytes(vm.hostMemoryMiB - linux.hostMemoryMiB)) more host memory.")
        add("performance", "disk written (initramfs cache)", bytes(linux.diskWrittenBytes), bytes(vm.diskWrittenBytes),
            "Written once per vessel binary and kernel, then reused.")
        return rows
    }

    static func visibility(_ result: ModeResult) -> String {
        let count = result.probe.processes.count
        return "\(result.hostProcessesVisible ? "yes" : "no") (\(count) process\(count == 1 ? "" : "es") in all)"
    }

    static func list(_ names: [String]) -> String { names.isEmpty ? "none" : names.joined(separator: ", ") }

    static func milliseconds(_ value: Double) -> String {
        value >= 1000 ? "\(Double(Int(value / 10)) / 100) s" : "\(Int(value.rounded())) ms"
    }

    static func mebibytes(_ value: Double) -> String { "\(Double(Int(value * 10)) / 10) MiB" }

    static func bytes(_ value: Int) -> String { value >= 1 << 20 ? "\(value >> 20) MiB" : "\(value) B" }

    static func ratio(_ a: Double, _ b: Double) -> String {
        guard b > 0 else { return "n/a" }
        return "\(Double(Int(a / b * 10)) / 10)x"
    }

    static func firstDifference(_ a: String, _ b: String) -> String {
        let left = a.split(separator: "\n", omittingEmptySubsequences: false)
        let right = b.split(separator: "\n", omittingEmptySubsequences: false)
        for index in 0..<max(left.count, right.count) {
            let l = index < left.count ? String(left[index]) : "(nothing)"
            let r = index < right.count ? String(right[index]) : "(nothing)"
            if l != r { return "line \(index + 1): linux \(l.debugDescription), vm \(r.debugDescription)" }
        }
        return "in whitespace"
    }
}
