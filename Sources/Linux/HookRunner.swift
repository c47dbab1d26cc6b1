import CVessel
import Glibc
import OCI

// Runs runtime-spec hooks: each gets the container state on stdin, its own
// args and env (nothing inherited), and is killed at its timeout.
public enum HookRunner {
    public static func run(_ hooks: [Hook], kind: String, state: String) throws(SetupError) {
        for (index, hook) in hooks.enumerated() {
            try run(hook, name: "hooks.\(kind)[\(index)] (\(hook.path))", state: state)
        }
    }

    static func run(_ hook: Hook, name: String, state: String) throws(SetupError) {
        var pipeFDs: [Int32] = [0, 0]
        guard vessel_pipe(&pipeFDs) == 0 else { throw SetupError("\(name): pipe: \(SystemError("pipe").errno)") }
        var request = SpawnRequest(path: hook.path, arguments: hook.args ?? [hook.path], environment: hook.env ?? [])
        request.stdio = (pipeFDs[0], -1, -1)
        let pid: pid_t
        do {
            pid = try Spawner.spawn(request)
        } catch {
            close(pipeFDs[0])
            close(pipeFDs[1])
            throw SetupError("\(name): \(error)")
        }
        close(pipeFDs[0])
        let bytes = Array(state.utf8)
        signal(SIGPIPE, SIG_IGN)
        _ = bytes.withUnsafeBytes { write(pipeFDs[1], $0.baseAddress, $0.count) }
        close(pipeFDs[1])
        let status = try wait(pid, timeoutSeconds: hook.timeout, name: name)
        if status & 0x7f != 0 {
            throw SetupError("\(name) was killed by signal \(status & 0x7f)")
        }
        let code = (status >> 8) & 0xff
        if code != 0 { throw SetupError("\(name) exited with status \(code)") }
    }

    /// Waits for the hook, bounded by its timeout, through a pidfd.
    static func wait(_ pid: pid_t, timeoutSeconds: Int?, name: String) throws(SetupError) -> Int32 {
        if let timeoutSeconds {
            let pidfd = vessel_pidfd_open(pid)
            if pidfd >= 0 {
                defer { close(pidfd) }
                var poller = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
                var ready: Int32
                repeat { ready = poll(&poller, 1, Int32(timeoutSeconds * 1000)) } while ready < 0 && errno == EINTR
                if ready == 0 {
                    kill(pid, SIGKILL)
                    _ = Spawner.wait(pid)
                    throw SetupError("\(name) timed out after \(timeoutSeconds) s")
                }
            }
        }
        return Spawner.wait(pid)
    }
}
