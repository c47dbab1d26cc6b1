import Glibc

// How a helper that vessel starts and leaves running (the VM supervisor, an
// exec relay) tells its starter, in one line, whether it got going: "ok",
// perhaps with a detail, or "error <message>". The line travels on a pipe
// whose write end the helper inherits, named in its environment.
public enum StartReport {
    public static let environmentName = "_VESSEL_REPORT"

    /// Spawns `request` with the pipe and waits (bounded) for the line;
    /// "" when the helper ended or the time ran out without one.
    public static func spawn(_ request: SpawnRequest, timeoutSeconds: Int) throws -> (pid: pid_t, line: String) {
        let (pid, report) = try Spawner.spawn(request, pipe: .fromChild) { request, end in
            // Not a stdio fd: the helper inherits it across exec by number.
            _ = fcntl(end, F_SETFD, 0)
            request.environment.append("\(environmentName)=\(end)")
        }
        defer { close(report) }
        return (pid, LineChannel(fd: report).receive(timeoutMilliseconds: Int32(timeoutSeconds * 1000)) ?? "")
    }

    /// The helper's end, from its environment, kept from its own children.
    public static func inheritedFD() -> Int32? {
        guard let fd = getenv(environmentName).flatMap({ Int32(String(cString: $0)) }) else { return nil }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        return fd
    }

    /// Sends the line and closes the pipe.
    public static func send(_ line: String, on fd: Int32) {
        FDIO.writeAll(fd, Array((line + "\n").utf8))
        close(fd)
    }

    /// The message of an "error <message>" line, or `otherwise`.
    public static func failure(_ line: String, otherwise: String) -> String {
        line.hasPrefix("error ") ? String(line.dropFirst(6)) : otherwise
    }
}
