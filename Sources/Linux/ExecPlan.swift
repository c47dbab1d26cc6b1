import OSKit
import OCI

// The exec hand-off: what `vessel exec` tells the process it starts inside
// a container (over the init socket, see InitHandoff): the process to run,
// the container's seccomp profile and the descriptors it inherited.
public struct ExecPlan: Codable {
    public var process: Process
    public var seccomp: Seccomp?
    public var preserveFDs: Int
    public var consoleFD: Int32 = -1
    /// The container's mount namespace, joined by the init itself (-1: ours).
    public var mountNamespaceFD: Int32 = -1
    /// --exec-wait-fifo: the fifo (O_PATH, inherited), opened for writing
    /// before the execve, which waits there for a reader (-1: none).
    public var waitFifoFD: Int32 = -1

    public init(process: Process, seccomp: Seccomp?, preserveFDs: Int) {
        self.process = process
        self.seccomp = seccomp
        self.preserveFDs = preserveFDs
    }
}
