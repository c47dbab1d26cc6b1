// The lines of the report, each with a plain-language verdict, grouped in
// sections: equivalence, safety, boundary (what the probes tried),
// disclosure (what the workload learns about the host), performance.
extension Comparison {
    static func rows(linux: ModeResult, vm: ModeResult, hostKernel: String, knownSyscalls: Int, vmmSurface: String) -> [Row] {
        var rows: [Row] = []
        func add(_ section: String, _ measure: String, _ l: String, _ v: String, _ verdict: String) {
            rows.append(Row(section: section, measure: measure, linux: l, vm: v, verdict: verdict))
        }
        let sameOutput = linux.stdout == vm.stdout && linux.stderr == vm.stderr
        add(
            "equivalence", "output (stdout, stderr)", "\(linux.stdout.utf8.count) + \(linux.stderr.utf8.count) bytes",
            "\(vm.stdout.utf8.count) + \(vm.stderr.utf8.count) bytes",
            sameOutput ? "The same bytes in both modes." : "The output differs: \(firstDifference(linux.stdout + linux.stderr, vm.stdout + vm.stderr)).")
        add(
            "equivalence", "exit status", "\(linux.exitStatus)", "\(vm.exitStatus)",
            linux.exitStatus == vm.exitStatus ? "The same exit status." : "The exit status differs.")
        add(
            "equivalence", "kernel version seen", linux.probe.kernel, vm.probe.kernel,
            linux.probe.kernel == vm.probe.kernel ? "Both see the same kernel version." : "Expected to differ: each mode reports the kernel that runs it.")

        add(
            "safety", "kernel the workload talks to", "host's (\(linux.probe.kernel))", "guest's (\(vm.probe.kernel))",
            "In VM mode a kernel exploit reaches the guest kernel, not the host's \(hostKernel).")
        add(
            "safety", "host system calls reachable", "\(linux.hostSyscalls) of \(knownSyscalls)", "0",
            "Linux mode's boundary is its seccomp profile; in VM mode the host sees only the VMM: \(vmmSurface).")
        add(
            "safety", "host processes visible", visibility(linux), visibility(vm),
            linux.hostProcessesVisible && !vm.hostProcessesVisible
                ? "Shared with the host in linux mode (no pid namespace); the VM has its own."
                : (vm.hostProcessesVisible ? "The VM shows host processes: that should not happen." : "Neither mode shows the host's processes."))
        add("safety", "mounts visible", "\(linux.probe.mounts)", "\(vm.probe.mounts)", "In VM mode the mounts are the guest's.")
        add(
            "safety", "/dev and /sys entries", "\(linux.probe.devEntries), \(linux.probe.sysEntries)",
            "\(vm.probe.devEntries), \(vm.probe.sysEntries)", "In VM mode /sys describes virtual hardware, not the host's.")
        add("safety", "kernel keyring entries", "\(linux.probe.keys)", "\(vm.probe.keys)", "In VM mode the keyring is the guest kernel's.")
        add(
            "safety", "seccomp mode, CapEff", "\(linux.probe.seccompMode), \(linux.probe.effectiveCapabilities)",
            "\(vm.probe.seccompMode), \(vm.probe.effectiveCapabilities)",
            "The same profile and capabilities apply inside the VM as well.")

        for (l, v) in zip(linux.boundary, vm.boundary) {
            add("boundary", l.title, l.cell, v.cell, boundaryVerdict(l, v))
        }
        for (l, v) in zip(linux.disclosures, vm.disclosures) {
            add("disclosure", l.fact, "\(l.kernel): \(l.value)", "\(v.kernel): \(v.value)", disclosureVerdict(l, v))
        }

        let firstL = median(linux.firstOutputMilliseconds), firstV = median(vm.firstOutputMilliseconds)
        let exitL = median(linux.exitMilliseconds), exitV = median(vm.exitMilliseconds)
        let conditions = [vm.accelerator, vm.vmBoot.map { $0 == "cold" ? "guest booted cold" : "guest restored from a template" }].compactMap { $0 }
        add(
            "performance", "time to first output (median)", milliseconds(firstL), milliseconds(firstV),
            "VM mode takes \(ratio(firstV, firstL)) as long" + (conditions.isEmpty ? "" : " (\(conditions.joined(separator: ", ")))") + ".")
        add("performance", "time to exit (median)", milliseconds(exitL), milliseconds(exitV), "VM mode takes \(ratio(exitV, exitL)) as long.")
        add(
            "performance", "host memory (PSS: runtime, container, VMM)", mebibytes(linux.hostMemoryPSSMiB), mebibytes(vm.hostMemoryPSSMiB),
            "VM mode uses \(mebibytes(vm.hostMemoryPSSMiB - linux.hostMemoryPSSMiB)) more host memory.")
        add(
            "performance", "disk written (initramfs cache, VM template)", bytes(linux.diskWrittenBytes), bytes(vm.diskWrittenBytes),
            "Written once per vessel binary and kernel (and VM shape, for the template), then reused.")
        return rows
    }

    static func boundaryVerdict(_ linux: BoundaryResult, _ vm: BoundaryResult) -> String {
        let inVM: String
        switch vm.outcome {
        case .allowed: inVM = "in VM mode it reaches only the guest kernel"
        case .denied: inVM = "in VM mode \(vm.deniedBy?.rawValue ?? "?") stops it inside the guest"
        case .absent: inVM = "the guest kernel lacks it"
        case .skipped: inVM = "in VM mode it was skipped (\(vm.reason))"
        }
        switch linux.outcome {
        case .allowed: return "Reaches the host kernel in linux mode; \(inVM)."
        case .denied where linux.deniedBy == vm.deniedBy && vm.outcome == .denied:
            return "Stopped by \(linux.deniedBy?.rawValue ?? "?") in both modes: \(linux.reason)."
        case .denied: return "Stopped by \(linux.deniedBy?.rawValue ?? "?") in linux mode (\(linux.reason)); \(inVM)."
        case .absent: return "The host kernel lacks it; \(inVM)."
        case .skipped: return "Skipped in linux mode (\(linux.reason)); \(inVM)."
        }
    }

    static func disclosureVerdict(_ linux: Disclosure, _ vm: Disclosure) -> String {
        if linux.revealsHost && !vm.revealsHost { return "Linux mode shows \(linux.reason.lowercasedFirst); VM mode shows \(vm.reason.lowercasedFirst)." }
        if !linux.revealsHost && !vm.revealsHost {
            return "Hidden from the workload in both modes: " + (linux.reason == vm.reason ? linux.reason : "\(linux.reason); \(vm.reason)") + "."
        }
        return "linux: \(linux.reason); vm: \(vm.reason)."
    }

    static func visibility(_ result: ModeResult) -> String {
        let count = result.probe.processes.count
        return "\(result.hostProcessesVisible ? "yes" : "no") (\(count) process\(count == 1 ? "" : "es") in all)"
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

extension String {
    var lowercasedFirst: String { prefix(1).lowercased() + dropFirst() }
}
