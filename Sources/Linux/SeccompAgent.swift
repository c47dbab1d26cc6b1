import CVessel
import Errors
import FoundationEssentials
import Glibc
import OCI
import OSKit

// linux.seccomp.listenerPath: the seccomp agent that SCMP_ACT_NOTIFY hands
// syscalls to. As runc does it, the runtime connects to the agent's unix
// socket (on the host, before the container's root changes) and, once the
// filter is loaded, sends the notification fd with SCM_RIGHTS together with
// the container process state as JSON (runtime-spec: ContainerProcessState).
public struct SeccompAgent: Codable {
    /// The connected socket, inherited by the init or the exec'd process.
    public var socketFD: Int32
    /// The ContainerProcessState document, complete but for nothing: the
    /// runtime fills the pid before the hand-off.
    public var state: String

    public init(socketFD: Int32, state: String) {
        self.socketFD = socketFD
        self.state = state
    }

    /// Connects to the agent; the socket stays open across exec.
    public static func connect(_ path: String) throws -> Int32 {
        let fd: Int32
        do {
            fd = try UnixSocket.connect(path)
        } catch {
            throw VesselError(error).wrapped("config.json: linux.seccomp.listenerPath: cannot reach the seccomp agent", field: "linux.seccomp.listenerPath")
        }
        _ = fcntl(fd, F_SETFD, 0)
        return fd
    }

    /// runtime-spec's ContainerProcessState, as JSON.
    public static func processState(ociVersion: String, pid: pid_t, metadata: String?, state: State) throws -> String {
        struct ProcessState: Encodable {
            let ociVersion: String
            let fds: [String]
            let pid: pid_t
            let metadata: String
            let state: State
        }
        let document = ProcessState(ociVersion: ociVersion, fds: ["seccompFd"], pid: pid, metadata: metadata ?? "", state: state)
        return String(decoding: try JSONEncoder().encode(document), as: UTF8.self)
    }

    /// Sends the notification fd and the state, then lets both go.
    func deliver(_ notifyFD: Int32) throws {
        defer {
            close(notifyFD)
            close(socketFD)
        }
        try sys("send the seccomp notification fd to the agent", vessel_send_fd(socketFD, notifyFD, state))
    }
}
