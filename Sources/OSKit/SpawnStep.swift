import SystemPackage

// What vessel_spawn's clone3 child was doing when it failed. The child
// cannot run Swift, so it sends the step's number and errno as a frame of
// its own making (vessel_step_record in the C shim), which the parent
// reads as `InitEvent.spawnFailed`. The numbers are the C shim's
// VESSEL_STEP_* (a unit test keeps the two in step).
public enum SpawnStep: Int32, Codable, Sendable, CaseIterable {
    case unshareMount = 1, protectBinary, openBinary, joinNamespace, dupStdio, awaitHandoff, setGroupID, setUserID, execute, changeDirectory
    case makeNonDumpable, closeDescriptors

    /// What could not be done, and the system call that refused.
    var action: (what: String, call: String) {
        switch self {
        case .unshareMount: return ("make a private mount namespace for the vessel binary", "unshare")
        case .protectBinary: return ("protect the vessel binary with a read-only bind mount", "mount")
        case .openBinary: return ("open the vessel binary", "open")
        case .joinNamespace: return ("join a namespace", "setns")
        case .dupStdio: return ("set up its stdio", "dup2")
        case .awaitHandoff: return ("receive its hand-off from the runtime", "recv")
        case .setGroupID: return ("become root in its user namespace", "setresgid")
        case .setUserID: return ("become root in its user namespace", "setresuid")
        case .execute: return ("execute the vessel binary", "execve")
        case .changeDirectory: return ("enter its working directory", "chdir")
        case .makeNonDumpable: return ("make itself non-dumpable", "prctl")
        case .closeDescriptors: return ("close the runtime's descriptors", "/proc/self/fd")
        }
    }

    /// One line: `container init could not join a namespace (setns): Operation not permitted`.
    public func describe(errno: Int32, subject: String) -> String {
        "\(subject) could not \(action.what) (\(action.call)): \(Errno(rawValue: errno))"
    }
}
