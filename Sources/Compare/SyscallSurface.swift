import CVessel
import Glibc
import OCI

// How many host system calls a linux-mode container can make, read from its
// seccomp profile: every call libseccomp knows on this architecture, less
// those the profile denies (argument conditions are not weighed).
enum SyscallSurface {
    static let allowing: Set<String> = ["SCMP_ACT_ALLOW", "SCMP_ACT_LOG"]

    /// The names libseccomp resolves on the native architecture.
    static func known() -> Set<String> {
        var names: Set<String> = []
        for number in Int32(0)..<1024 {
            if let name = seccomp_syscall_resolve_num_arch(UInt32(SCMP_ARCH_NATIVE), number) {
                names.insert(String(cString: name))
                free(name)
            }
        }
        return names
    }

    /// (allowed, total known).
    static func count(_ seccomp: Seccomp?) -> (allowed: Int, total: Int) {
        let all = known()
        guard let seccomp else { return (all.count, all.count) }
        let rules = seccomp.syscalls ?? []
        if allowing.contains(seccomp.defaultAction) {
            let denied = Set(rules.filter { !allowing.contains($0.action) }.flatMap(\.names)).intersection(all)
            return (all.count - denied.count, all.count)
        }
        let allowed = Set(rules.filter { allowing.contains($0.action) }.flatMap(\.names)).intersection(all)
        return (allowed.count, all.count)
    }
}
