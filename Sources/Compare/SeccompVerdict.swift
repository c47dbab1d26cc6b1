import Glibc
import OCI

// What a bundle's seccomp profile does to one system call, read from the
// profile alone (no filter is built): the last rule without argument
// conditions that names the call, else the default action. Rules with
// argument conditions make the answer conditional: they may apply or not.
struct SeccompVerdict: Equatable {
    enum Action: Equatable {
        case allow
        case errno(Int32)
        /// SCMP_ACT_KILL*, SCMP_ACT_TRAP: the process gets SIGSYS.
        case signal
        /// SCMP_ACT_TRACE without a tracer fails with ENOSYS; SCMP_ACT_NOTIFY.
        case other(String)
    }

    var action: Action
    /// Whether the action comes from the profile's default.
    var byDefault: Bool
    /// The actions of rules with argument conditions naming the call.
    var conditional: [Action]

    init(syscall: String, profile: Seccomp?) {
        guard let profile else {
            self.init(action: .allow, byDefault: true, conditional: [])
            return
        }
        let rules = (profile.syscalls ?? []).filter { $0.names.contains(syscall) }
        let unconditional = rules.last { ($0.args ?? []).isEmpty }
        let conditional = rules.filter { !($0.args ?? []).isEmpty }.map { Self.action($0.action, errnoRet: $0.errnoRet) }
        if let unconditional {
            self.init(action: Self.action(unconditional.action, errnoRet: unconditional.errnoRet), byDefault: false, conditional: conditional)
        } else {
            self.init(action: Self.action(profile.defaultAction, errnoRet: profile.defaultErrnoRet), byDefault: true, conditional: conditional)
        }
    }

    init(action: Action, byDefault: Bool, conditional: [Action]) {
        self.action = action
        self.byDefault = byDefault
        self.conditional = conditional
    }

    /// runc's (and vessel's) reading of an action name; errno defaults to EPERM.
    static func action(_ name: String, errnoRet: UInt32?) -> Action {
        switch name {
        case "SCMP_ACT_ALLOW", "SCMP_ACT_LOG": return .allow
        case "SCMP_ACT_ERRNO": return .errno(Int32(errnoRet ?? UInt32(EPERM)))
        case "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP": return .signal
        default: return .other(name)
        }
    }

    /// Whether the profile can answer `errno` for this call.
    func returns(errno: Int32) -> Bool {
        ([action] + conditional).contains(.errno(errno))
    }

    /// Whether the profile can send SIGSYS for this call.
    var signals: Bool { ([action] + conditional).contains(.signal) }

    /// Where the answer came from, for a reason line.
    var source: String {
        if action == .allow && !conditional.isEmpty { return "a rule with argument conditions" }
        return byDefault ? "the profile's default action" : "a rule naming it"
    }
}
