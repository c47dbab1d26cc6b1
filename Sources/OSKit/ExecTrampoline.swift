import CVessel
import Errors
import Glibc
import SystemPackage

/// The sealed exec trampoline (vessel_exec_trampoline in the C shim): a
/// one-page program in a sealed memfd through which a process that entered a
/// container without re-executing vessel runs the container's program. Its
/// /proc/self/exe is still vessel's binary until that last execve; going
/// through the trampoline means that whatever the program names as
/// /proc/self/exe (itself, a #! line, its ELF interpreter) is the sealed
/// memfd, never the host's vessel binary (CVE-2019-5736).
public struct ExecTrampoline: Sendable {
    /// Close-on-exec: it closes at the execve that uses it.
    public let fd: Int32

    /// A new trampoline; fails where there is none for this architecture or
    /// the kernel refuses executable memfds (vm.memfd_noexec = 2).
    public static func make() throws(VesselError) -> ExecTrampoline {
        let fd = vessel_exec_trampoline()
        guard fd >= 0 else { throw VesselError.system("make the sealed exec trampoline", errno: Errno(rawValue: -fd)) }
        return ExecTrampoline(fd: fd)
    }

    /// Runs `path` with `arguments` and `environment`. Where `path` cannot
    /// be executed, the trampoline says so (`exec <path>: <reason>`) and
    /// exits 1; this returns only when the trampoline itself could not be
    /// executed, with that errno.
    public func exec(_ path: String, arguments: [String], environment: [String]) -> Int32 {
        let argv = CStringArray(arguments)
        let envp = CStringArray(environment)
        let result = vessel_exec_through(fd, path, argv.pointer, envp.pointer)
        argv.free()
        envp.free()
        return -result
    }

    public func close() { _ = Glibc.close(fd) }
}
