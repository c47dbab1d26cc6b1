import Glibc
import Linux
import OSKit
import OCI

// Turns a probe's steps into an outcome, from the failing step's errno (or
// signal) and the bundle's config. The rules, in order (docs/decisions.md):
//  1. every step ok, or an errno that only comes after the permission
//     check (the probe's deliberately invalid argument): allowed;
//  2. SIGSYS, or the errno the seccomp profile returns for that call: seccomp;
//  3. /dev/null opened in place of the path: masked path; EROFS: read-only mount;
//  4. ENOSYS, or ENOENT opening a /proc or /sys file: absent from the kernel;
//  5. a sysctl of the answering kernel that refuses it to everyone: kernel policy;
//  6. EPERM opening a device node that mknod made, where the bundle's device
//     rules deny reading it: device cgroup;
//  7. EPERM or EACCES where the call needs a capability (always, or because
//     of a sysctl) the process lacks: capability; where it holds it only
//     inside a user namespace: namespace;
//  8. EPERM or EACCES with a sysctl involved: kernel policy;
//  9. anything else: unexplained, with the errno.
struct BoundaryClassifier {
    struct Context {
        /// "host" or "guest".
        var kernel: String
        var seccomp: Seccomp?
        /// The effective capability set, as CapEff bits.
        var effective: UInt64
        var userNamespace: Bool
        var deviceRules: [DeviceFilter.Rule]
        var sysctls: [String: String]
    }

    let context: Context

    func classify(_ probe: BoundaryProbe, steps: [ProbeStep]) -> BoundaryResult {
        var result = BoundaryResult(
            probe: probe.id, name: probe.name, title: probe.title, risk: probe.risk, kernel: context.kernel,
            outcome: .skipped, deniedBy: nil, reason: "", steps: steps)
        guard !steps.isEmpty else {
            result.reason = "the probe printed nothing for it"
            return result
        }
        guard let failing = steps.first(where: { $0.result != .ok }) else {
            result.outcome = .allowed
            result.reason = reached + ": " + steps.map { $0.detail.isEmpty ? "\($0.syscall) succeeded" : $0.detail }.joined(separator: "; ")
            return result
        }
        (result.outcome, result.deniedBy, result.reason) = judge(failing, probe: probe, earlier: steps.prefix { $0.result == .ok })
        return result
    }

    var reached: String { context.kernel == "guest" ? "reached only the guest kernel" : "reached the host kernel" }

    func judge(_ step: ProbeStep, probe: BoundaryProbe, earlier: ArraySlice<ProbeStep>) -> (BoundaryResult.Outcome, BoundaryResult.Stopper?, String) {
        let call = step.syscall
        let seccomp = SeccompVerdict(syscall: call, profile: context.seccomp)
        switch step.result {
        case .ok: return (.allowed, nil, reached)
        case .skipped: return (.skipped, nil, step.detail)
        case .masked: return (.denied, .maskedPath, "\(step.detail) (maskedPaths)")
        case .signal:
            if step.code == SIGSYS {
                return (.denied, .seccomp, "\(call) killed the process with SIGSYS: \(seccomp.signals ? seccomp.source : "a seccomp kill or trap action")")
            }
            if step.code == SIGALRM { return (.skipped, nil, "timed out after 5 s in \(call)") }
            return (.skipped, nil, "killed by signal \(step.code ?? 0) in \(call)")
        case .errno:
            return judgeErrno(step.code ?? 0, name: step.detail, step: step, probe: probe, seccomp: seccomp, earlier: earlier)
        }
    }

    func judgeErrno(
        _ errno: Int32, name: String, step: ProbeStep, probe: BoundaryProbe, seccomp: SeccompVerdict,
        earlier: ArraySlice<ProbeStep>
    ) -> (BoundaryResult.Outcome, BoundaryResult.Stopper?, String) {
        let call = step.syscall
        let what = "\(call) failed with \(name)"
        if probe.passedCheck[step.step]?.contains(errno) == true && !seccomp.returns(errno: errno) {
            return (.allowed, nil, "\(reached): \(call) passed its permission check; only the probe's deliberately invalid argument (\(name)) stopped it")
        }
        if seccomp.returns(errno: errno) {
            return (.denied, .seccomp, "\(what): \(seccomp.source) of the seccomp profile returns \(name)")
        }
        if errno == EROFS { return (.denied, .readOnlyMount, "\(what): the path is on a read-only mount (root.readonly, readonlyPaths or a ro mount)") }
        if errno == ENOSYS { return (.absent, nil, "\(what): this kernel is built without it") }
        if errno == ENOENT && call == "openat" { return (.absent, nil, "\(what): this kernel has no such file") }
        let knobs = probe.knobs.compactMap { knob in knob.setting(in: context.sysctls).map { (knob, $0) } }
        if let blocking = knobs.first(where: { $0.0.blocksEveryone($0.1.value) }) {
            return (.denied, .kernelPolicy, "\(what): \(blocking.1.text) refuses it to everyone")
        }
        if errno == EPERM && step.step == "open", let made = earlier.last(where: { $0.step == "mknod" }),
            let verdict = deviceVerdict(made, block: probe.id == "device-block", what: what)
        {
            return verdict
        }
        guard errno == EPERM || errno == EACCES else { return (.denied, .unexplained, "\(what), which these rules do not explain") }
        let needed = probe.capabilities[step.step] ?? []
        let demanding = knobs.filter { $0.0.needsCapability($0.1.value) }.map(\.1.text)
        let because = demanding.isEmpty ? "" : " (because \(demanding.joined(separator: ", ")))"
        if !needed.isEmpty && (probe.alwaysNeedsCapability || !demanding.isEmpty) {
            if !needed.contains(where: holds) {
                return (.denied, .capability, "\(what): needs \(needed.joined(separator: " or "))\(because), which the process does not hold")
            }
            if context.userNamespace {
                return (.denied, .namespace, "\(what): the process holds \(needed.filter(holds).joined(separator: ", ")) only inside its user namespace")
            }
        }
        if !knobs.isEmpty {
            return (.denied, .kernelPolicy, "\(what) under \(knobs.map(\.1.text).joined(separator: ", "))")
        }
        return (.denied, .unexplained, "\(what), which these rules do not explain")
    }

    /// EPERM on open of a node mknod made: the device cgroup, where the
    /// bundle's device rules deny reading it; nil where they allow it.
    func deviceVerdict(_ made: ProbeStep, block: Bool, what: String) -> (BoundaryResult.Outcome, BoundaryResult.Stopper?, String)? {
        guard let device = DeviceRuleCheck.numbers(in: made.detail),
            !DeviceRuleCheck.allows(
                context.deviceRules, type: block ? .block : .char, major: device.major,
                minor: device.minor, access: .read)
        else { return nil }
        return (.denied, .deviceCgroup, "mknod made \(made.detail), then \(what): the device rules (linux.resources.devices) do not allow reading it")
    }

    func holds(_ capability: String) -> Bool {
        guard let number = CapabilitySet.number(of: capability), number < 64 else { return false }
        return context.effective & (1 << UInt64(number)) != 0
    }
}

extension BoundaryClassifier.Context {
    /// The context of a probe run: the bundle's seccomp profile, user
    /// namespace and device rules, the capabilities the probe found itself
    /// holding (CapEff; the config's effective set if it could not say) and
    /// the answering kernel's sysctls.
    init(spec: Spec, probe: ProbeReport, kernel: String) {
        let linux = spec.linux
        let configured = CapabilitySet(spec.process?.capabilities).effective
        let rules = try? DeviceFilter(resources: linux?.resources?.devices ?? [], devices: linux?.devices ?? []).rules
        self.init(
            kernel: kernel, seccomp: linux?.seccomp,
            effective: UInt64(probe.effectiveCapabilities, radix: 16) ?? configured,
            userNamespace: (linux?.namespaces ?? []).contains { $0.type == .user },
            deviceRules: rules ?? DeviceFilter.defaultAllowed, sysctls: probe.sysctls)
    }
}

extension BoundaryClassifier {
    /// Every probe of the catalogue, classified; all skipped with the
    /// reason where the probe bundle could not run.
    static func results(spec: Spec, probe: ProbeReport, kernel: String, failure: String?) -> [BoundaryResult] {
        let classifier = BoundaryClassifier(context: Context(spec: spec, probe: probe, kernel: kernel))
        return BoundaryProbe.all.map { entry in
            var result = classifier.classify(entry, steps: probe.steps(of: entry.id))
            if let failure, result.steps.isEmpty { result.reason = failure }
            return result
        }
    }
}
