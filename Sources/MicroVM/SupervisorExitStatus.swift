import OSKit

/// The VM supervisor's own exit status, which `run` and conmon take as the
/// container's: the status the agent reported for the container's process;
/// without one, QEMU's (128+N if signal N killed it), and 1 when QEMU ended
/// normally (the guest powered off, or QEMU handled SIGTERM) with nothing
/// reported, since an unexplained end is not a success.
public enum SupervisorExitStatus {
    public static func code(container: Int32?, qemuWaitStatus: Int32?) -> Int32 {
        if let container { return container }
        guard let qemuWaitStatus else { return 1 }
        let code = Spawner.exitCode(fromWaitStatus: qemuWaitStatus)
        return code == 0 ? 1 : code
    }
}
