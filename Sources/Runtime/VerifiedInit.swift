import Errors
import CVessel
import FoundationEssentials
import Glibc
import Linux
import OSKit

/// The container's init as state.json names it, held as a pidfd only after
/// checks that it is the container's: the same process (its start time)
/// and, for a namespace container, a member of the container's cgroup; for
/// a VM, the supervisor of this container's directory. A stale or forged
/// state.json cannot aim a signal at a host process.
final class VerifiedInit {
    let pid: pid_t
    private let pidfd: Int32

    private init(pid: pid_t, pidfd: Int32) {
        self.pid = pid
        self.pidfd = pidfd
    }

    /// nil when the process is gone (or was never started); throws when it
    /// lives but cannot be shown to be the container's.
    static func open(_ record: ContainerRecord, directory: String, backend: any ContainerBackend) throws -> VerifiedInit? {
        guard record.pid > 0 else { return nil }
        // The pidfd pins the process: a check below cannot pass for one
        // process and the signal reach another that reused the pid.
        let pidfd = vessel_pidfd_open(record.pid)
        guard pidfd >= 0 else {
            if errno == ESRCH { return nil }
            throw VesselError.system("pidfd_open \(record.pid)")
        }
        guard ProcessStat.isAlive(pid: record.pid, startTime: record.pidStartTime) else {
            close(pidfd)
            return nil
        }
        if let problem = backend.identityProblem(record) {
            close(pidfd)
            throw VesselError.corruptState(id: record.id, reason: problem + ": pid \(record.pid) left alone")
        }
        return VerifiedInit(pid: record.pid, pidfd: pidfd)
    }

    func signal(_ signal: Int32) throws(VesselError) {
        try sys("kill \(pid) with signal \(signal)", vessel_pidfd_send_signal(pidfd, signal))
    }

    deinit { close(pidfd) }
}
