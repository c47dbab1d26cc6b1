import Errors
import Glibc
import OSKit

// The VM's unix sockets (supervisor.sock, the ports' sockets) live in the
// container's state directory, whose path may not fit sockaddr_un's 108
// bytes: containerd's runc root with a 64-hex id already makes 108. Every
// bind and connect goes through /proc/self/fd/<n>/<name> of a descriptor of
// the directory instead, so the path is short whatever --root is.
public final class SocketDirectory {
    public let directory: String
    let fd: Int32

    public init(_ directory: String) throws(VesselError) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw VesselError.system("open \(directory)") }
        self.directory = directory
        self.fd = fd
    }

    deinit { close(fd) }

    /// A short path naming `name` in the directory, for this process.
    public func path(_ name: String) -> String { "/proc/self/fd/\(fd)/\(name)" }

    /// Errors name the real path, not the /proc one.
    public func connect(_ name: String) throws(VesselError) -> Int32 {
        do {
            return try UnixSocket.connect(path(name))
        } catch {
            throw renamed(error, "connect", name)
        }
    }

    public func listen(_ name: String) throws(VesselError) -> Int32 {
        do {
            return try UnixSocket.listen(path(name))
        } catch {
            throw renamed(error, "listen on", name)
        }
    }

    private func renamed(_ error: VesselError, _ operation: String, _ name: String) -> VesselError {
        guard let errno = error.errno else { return error }
        return VesselError.system("\(operation) \(directory)/\(name)", errno: errno)
    }

    /// The port's socket, for vessel's own processes.
    public func connect(port: String) throws(VesselError) -> Int32 {
        try connect(GuestPorts.fileName(port))
    }

    /// A descriptor of the directory that a spawned child inherits (no
    /// close-on-exec), and the directory's short path in that child. The
    /// caller closes it once the child is spawned.
    public func inheritable() throws(VesselError) -> (fd: Int32, path: String) {
        let copy = fcntl(fd, F_DUPFD, 3)
        guard copy >= 0 else { throw VesselError.system("duplicate the descriptor of \(directory)") }
        return (copy, "/proc/self/fd/\(copy)")
    }
}
