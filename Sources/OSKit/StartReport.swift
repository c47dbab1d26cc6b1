import Glibc

// How a helper that vessel starts and leaves running (the VM supervisor, an
// exec relay) tells its starter whether it got going: one message on a pipe
// whose write end the helper inherits, named in its environment.
public enum StartReport: Codable, Equatable, Sendable {
    /// Going; `detail` is the helper's to define (the supervisor: the guest kernel).
    case started(detail: String)
    case failed(reason: String)

    public static let environmentName = "_VESSEL_REPORT"

    /// Spawns `request` with the pipe and waits (bounded) for the report;
    /// nil when the helper ended or the time ran out without one.
    public static func spawn(_ request: SpawnRequest, timeoutSeconds: Int) throws -> (pid: pid_t, report: StartReport?) {
        let (pid, fd) = try Spawner.spawn(request, pipe: .fromChild) { request, end in
            // Not a stdio fd: the helper inherits it across exec by number.
            _ = fcntl(end, F_SETFD, 0)
            request.environment.append("\(environmentName)=\(end)")
        }
        let channel = MessageChannel(fd: fd)
        defer { channel.close() }
        return (pid, try? channel.receive(StartReport.self, timeoutMilliseconds: Int32(timeoutSeconds * 1000)))
    }

    /// The helper's end, from its environment, kept from its own children.
    public static func inheritedFD() -> Int32? {
        guard let fd = getenv(environmentName).flatMap({ Int32(String(cString: $0)) }) else { return nil }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        return fd
    }

    /// Sends the report and closes the pipe.
    public func send(on fd: Int32) {
        let channel = MessageChannel(fd: fd)
        channel.send(self)
        channel.close()
    }

    /// The reason of a failure report, or `otherwise` (no report, or a start).
    public static func failure(_ report: StartReport?, otherwise: String) -> String {
        if case let .failed(reason)? = report { return reason }
        return otherwise
    }
}
