import OCI

/// How the process that enters a container (the init of `create`, the
/// process of `exec`) starts (docs/decisions.md, "One Swift start per create
/// and exec"): cloned, going on in Swift with what the runtime already
/// decoded, or re-executing vessel as `vessel init` (the first design, and
/// the fallback).
///
/// In place, the process stays non-dumpable and runs the container's
/// program through the sealed exec trampoline, so the host's vessel binary
/// is out of the container's reach (CVE-2019-5736). That holds only when no
/// process of the container can open a non-dumpable process's
/// /proc/<pid>/exe and when the extra execve of the trampoline changes
/// nothing the program sees; elsewhere vessel re-executes itself from a
/// read-only view of its binary, as before. The process must also be
/// single-threaded at the clone, which the C shim checks (EDEADLK).
public enum InitLaunch: Equatable, Sendable {
    case inPlace
    case reexec(because: String)

    /// Set (to anything) to always re-execute, e.g. to compare or to test the fallback.
    public static let forceReexecVariable = "VESSEL_INIT_REEXEC"

    /// CAP_SYS_PTRACE's number: with it over the host's user namespace, a
    /// process can open a non-dumpable process's /proc/<pid>/exe.
    static let sysPtrace: UInt64 = 1 << 19

    /// - Parameters:
    ///   - process: the process that will run.
    ///   - containerBounding: the bounding sets other processes of the
    ///     container may hold (exec: the container's own).
    ///   - hostUserNamespace: the container shares the host's user namespace,
    ///     where CAP_SYS_PTRACE reaches a non-dumpable process of ours.
    ///   - writesOwnProc: the init writes /proc files of its own or of its
    ///     children (oomScoreAdj, timeOffsets, an idmapped mount's maps),
    ///     which a non-dumpable process cannot in a user namespace.
    ///   - execLabel: an AppArmor profile or SELinux label applies at the next
    ///     execve, which would be the trampoline's, not the program's.
    ///   - nonRootParent: (create) the runtime is not root: it writes the
    ///     init's id maps and reads its namespaces (its own, and `exec`'s
    ///     later) through /proc/<pid>, which a non-dumpable process keeps
    ///     from all but root.
    public static func choose(
        process: Process, containerBounding: [Capabilities?] = [], hostUserNamespace: Bool,
        writesOwnProc: Bool, execLabel: Bool, nonRootParent: Bool = false,
        forced: Bool, lastCap: Int
    ) -> InitLaunch {
        if forced { return .reexec(because: "\(forceReexecVariable) is set") }
        if execLabel { return .reexec(because: "an exec label applies at the next execve") }
        if nonRootParent {
            return .reexec(because: "a runtime that is not root cannot reach a non-dumpable init's /proc files")
        }
        let caps = CapabilitySet(process.capabilities, lastCap: lastCap)
        if hostUserNamespace {
            let reach = ([process.capabilities] + containerBounding).reduce(UInt64(0)) {
                $0 | CapabilitySet($1, lastCap: lastCap).bounding
            }
            if reach & sysPtrace != 0 {
                return .reexec(because: "a process of the container may hold CAP_SYS_PTRACE in the host's user namespace")
            }
        } else if writesOwnProc {
            return .reexec(because: "a non-dumpable init cannot write its /proc files in a user namespace")
        }
        // A second execve drops what a non-root process held outside its
        // ambient set; with no_new_privs, file capabilities cannot restore it.
        if process.user.uid != 0 && process.noNewPrivileges == true && caps.permitted & ~caps.ambient != 0 {
            return .reexec(because: "a non-root process with no_new_privs would lose capabilities at a second execve")
        }
        return .inPlace
    }
}
