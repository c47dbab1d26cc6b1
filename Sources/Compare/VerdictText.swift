// The report's opening paragraph, in plain words: which boundary stopped
// what in each mode, what the workload learns about the host, and what
// each boundary costs.
enum VerdictText {
    static func paragraph(_ comparison: Comparison) -> String {
        let linux = comparison.linux, vm = comparison.vm
        var sentences: [String] = []
        let reached = linux.boundary.filter(\.reachedHostKernel)
        sentences.append(
            "In linux mode, \(reached.count) of the \(linux.boundary.count) escape routes the probe tried reached the host kernel"
                + (reached.isEmpty ? "" : " (\(list(reached.map(\.name))))")
                + (stoppers(linux).isEmpty ? "." : "; " + stoppers(linux) + "."))
        let guestReached = vm.boundary.filter { $0.outcome == .allowed }
        sentences.append(
            "In VM mode the same settings held inside the guest, and the \(guestReached.count) routes that got through reached only the guest kernel, never the host's.")
        let learnedL = linux.disclosures.filter(\.revealsHost).map(\.fact)
        let learnedV = vm.disclosures.filter(\.revealsHost).map(\.fact)
        sentences.append(
            "Linux mode also tells the workload the host's \(learnedL.isEmpty ? "nothing we looked for" : list(learnedL)); VM mode \(learnedV.isEmpty ? "none of it" : "its " + list(learnedV))."
        )
        let firstL = median(linux.firstOutputMilliseconds), firstV = median(vm.firstOutputMilliseconds)
        sentences.append(
            "Seccomp, capabilities, mounts and the device cgroup cost nothing measurable, since both modes pay them; "
                + "the VM costs \(Comparison.milliseconds(firstV)) instead of \(Comparison.milliseconds(firstL)) to first output (\(Comparison.ratio(firstV, firstL)) as long"
                + (vm.accelerator.map { $0 == "tcg" ? ", under TCG software emulation here" : ", with \($0)" } ?? "")
                + ") and \(Comparison.mebibytes(max(0, vm.hostMemoryPSSMiB - linux.hostMemoryPSSMiB))) more host memory per container.")
        return sentences.joined(separator: " ")
    }

    /// "missing capabilities stopped 4, read-only mounts 2, 3 are not in the kernel".
    static func stoppers(_ mode: Comparison.ModeResult) -> String {
        let groups: [(BoundaryResult.Stopper, String)] = [
            (.seccomp, "seccomp"), (.capability, "missing capabilities"), (.deviceCgroup, "the device cgroup"),
            (.namespace, "the user namespace"), (.readOnlyMount, "read-only mounts"), (.maskedPath, "masked paths"),
            (.kernelPolicy, "kernel policy (sysctls)"), (.unexplained, "something unexplained"),
        ]
        var parts: [String] = []
        for (stopper, words) in groups {
            let stopped = mode.boundary.filter { $0.outcome == .denied && $0.deniedBy == stopper }.count
            if stopped > 0 { parts.append("\(words) \(parts.isEmpty ? "stopped " : "")\(stopped)") }
        }
        let absent = mode.boundary.filter { $0.outcome == .absent }.count
        if absent > 0 { parts.append("\(absent) \(absent == 1 ? "is" : "are") not built into the \(mode.kernelOwner) kernel") }
        let skipped = mode.boundary.filter { $0.outcome == .skipped }.count
        if skipped > 0 { parts.append("\(skipped) could not run") }
        return parts.joined(separator: ", ")
    }

    static func list(_ names: [String]) -> String {
        guard names.count > 1, let last = names.last else { return names.first ?? "" }
        return names.dropLast().joined(separator: ", ") + " and " + last
    }
}
