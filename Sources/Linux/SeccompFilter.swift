import OSKit
import Errors
import CVessel
import Glibc
import OCI

// linux.seccomp translated to a libseccomp filter. `unknownSyscalls` lists
// names this libseccomp does not know: they are skipped with a warning.
public struct SeccompFilter {
    public let profile: Seccomp
    public private(set) var unknownSyscalls: [String] = []

    public init(_ profile: Seccomp) {
        self.profile = profile
        for rule in profile.syscalls ?? [] {
            for name in rule.names where seccomp_syscall_resolve_name(name) == __NR_SCMP_ERROR {
                if !unknownSyscalls.contains(name) { unknownSyscalls.append(name) }
            }
        }
    }

    /// The libseccomp action value for a spec action name.
    public static func action(_ name: String, errnoRet: UInt32?) throws(VesselError) -> UInt32 {
        switch name {
        case "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD": return 0x0000_0000
        case "SCMP_ACT_KILL_PROCESS": return 0x8000_0000
        case "SCMP_ACT_TRAP": return 0x0003_0000
        case "SCMP_ACT_ERRNO": return 0x0005_0000 | (errnoRet ?? UInt32(EPERM)) & 0xffff
        case "SCMP_ACT_TRACE": return 0x7ff0_0000 | (errnoRet ?? UInt32(EPERM)) & 0xffff
        case "SCMP_ACT_LOG": return 0x7ffc_0000
        case "SCMP_ACT_ALLOW": return 0x7fff_0000
        case "SCMP_ACT_NOTIFY": return 0x7fc0_0000
        default:
            throw VesselError.setup("config.json: linux.seccomp: unknown action \(name)")
        }
    }

    public static func comparison(_ op: String) -> scmp_compare? {
        switch op {
        case "SCMP_CMP_NE": return SCMP_CMP_NE
        case "SCMP_CMP_LT": return SCMP_CMP_LT
        case "SCMP_CMP_LE": return SCMP_CMP_LE
        case "SCMP_CMP_EQ": return SCMP_CMP_EQ
        case "SCMP_CMP_GE": return SCMP_CMP_GE
        case "SCMP_CMP_GT": return SCMP_CMP_GT
        case "SCMP_CMP_MASKED_EQ": return SCMP_CMP_MASKED_EQ
        default: return nil
        }
    }

    /// The condition sets to add as rules. libseccomp refuses two conditions
    /// on one argument in a rule; as runc does, such a rule becomes one rule
    /// per condition (any of them matching triggers the action).
    public static func ruleConditionSets(_ conditions: [scmp_arg_cmp]) -> [[scmp_arg_cmp]] {
        let indexes = conditions.map(\.arg)
        guard Set(indexes).count < indexes.count else { return [conditions] }
        return conditions.map { [$0] }
    }

    /// Whether any rule hands its syscall to a user-space agent.
    public var notifies: Bool { profile.notifies }

    /// Builds the filter and loads it into the calling process. libseccomp's
    /// own no_new_privs default is turned off: the config decides that.
    /// Returns the notification fd when a rule uses SCMP_ACT_NOTIFY.
    @discardableResult
    public func load() throws -> Int32? {
        let defaultAction = try Self.action(profile.defaultAction, errnoRet: profile.defaultErrnoRet)
        guard let context = seccomp_init(defaultAction) else {
            throw VesselError.setup("seccomp: cannot initialise a filter with default action \(profile.defaultAction)")
        }
        defer { seccomp_release(context) }
        _ = seccomp_attr_set(context, SCMP_FLTATR_CTL_NNP, 0)
        for flag in profile.flags ?? [] {
            switch flag {
            case "SECCOMP_FILTER_FLAG_LOG": _ = seccomp_attr_set(context, SCMP_FLTATR_CTL_LOG, 1)
            case "SECCOMP_FILTER_FLAG_SPEC_ALLOW": _ = seccomp_attr_set(context, SCMP_FLTATR_CTL_SSB, 1)
            case "SECCOMP_FILTER_FLAG_TSYNC": _ = seccomp_attr_set(context, SCMP_FLTATR_CTL_TSYNC, 1)
            default: throw VesselError.setup("config.json: linux.seccomp.flags: unknown flag \(flag)")
            }
        }
        for arch in profile.architectures ?? [] {
            let name = arch.hasPrefix("SCMP_ARCH_") ? String(arch.dropFirst(10)).lowercased() : arch.lowercased()
            let token = seccomp_arch_resolve_name(name)
            guard token != 0 else { throw VesselError.setup("config.json: linux.seccomp.architectures: unknown architecture \(arch)") }
            let rc = seccomp_arch_add(context, token)
            if rc != 0 && rc != -EEXIST {
                throw VesselError.setup("seccomp: adding architecture \(arch): \(String(cString: strerror(-rc)))")
            }
        }
        for (index, rule) in (profile.syscalls ?? []).enumerated() {
            let action = try Self.action(rule.action, errnoRet: rule.errnoRet)
            // libseccomp refuses a rule whose action is the default one.
            if action == defaultAction { continue }
            var conditions: [scmp_arg_cmp] = []
            for arg in rule.args ?? [] {
                guard let op = Self.comparison(arg.op) else {
                    throw VesselError.setup("config.json: linux.seccomp.syscalls[\(index)]: unknown operator \(arg.op)")
                }
                conditions.append(scmp_arg_cmp(arg: arg.index, op: op, datum_a: arg.value, datum_b: arg.valueTwo ?? 0))
            }
            for name in rule.names {
                let number = seccomp_syscall_resolve_name(name)
                if number == __NR_SCMP_ERROR { continue }
                for set in Self.ruleConditionSets(conditions) {
                    let rc = set.withUnsafeBufferPointer {
                        seccomp_rule_add_array(context, action, number, UInt32($0.count), $0.baseAddress)
                    }
                    if rc != 0 {
                        throw VesselError.setup("config.json: linux.seccomp.syscalls[\(index)]: rule for \(name): \(String(cString: strerror(-rc)))")
                    }
                }
            }
        }
        // A filter that refuses exit_group must not leave this process
        // alive: glibc's _exit then faults, and the Swift runtime's crash
        // handlers, every system call of theirs refused too, would never
        // end it. Default handlers let the fault kill it, so create fails
        // at once. (execve resets handlers anyway.)
        for crash in [SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS] { signal(crash, SIG_DFL) }
        let rc = seccomp_load(context)
        if rc != 0 { throw VesselError.setup("seccomp: loading the filter: \(String(cString: strerror(-rc)))") }
        guard notifies else { return nil }
        let fd = seccomp_notify_fd(context)
        guard fd >= 0 else { throw VesselError.setup("seccomp: no notification fd from the loaded filter: \(String(cString: strerror(-fd)))") }
        return fd
    }
}
