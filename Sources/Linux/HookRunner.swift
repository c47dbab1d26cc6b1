import OSKit
import Errors
import CVessel
import Glibc
import OCI

// Runs runtime-spec hooks: each gets the container state on stdin, its own
// args and env (the runtime's when it has none), and is killed at its timeout.
public enum HookRunner {
    public static func run(_ hooks: [Hook], kind: String, state: String) throws(VesselError) {
        for (index, hook) in hooks.enumerated() {
            try run(hook, name: "hooks.\(kind)[\(index)] (\(hook.path))", state: state)
        }
    }

    static func run(_ hook: Hook, name: String, state: String) throws(VesselError) {
        // Without `env`, a hook inherits the runtime's environment, as runc's do.
        let request = SpawnRequest(path: hook.path, arguments: hook.args ?? [hook.path], environment: hook.env ?? inheritedEnvironment())
        let pid: pid_t, stdin: Int32
        do {
            (pid, stdin) = try Spawner.spawn(request, pipe: .toChild) { $0.stdio = ($1, -1, -1) }
        } catch {
            throw VesselError(error).wrapped(name)
        }
        let bytes = Array(state.utf8)
        // A hook that does not read its stdin must not kill us with SIGPIPE;
        // the old disposition comes back, or the container's process (the
        // init execs it) would start with SIGPIPE ignored.
        let previous = signal(SIGPIPE, SIG_IGN)
        _ = bytes.withUnsafeBytes { write(stdin, $0.baseAddress, $0.count) }
        signal(SIGPIPE, previous)
        close(stdin)
        let status = try wait(pid, timeoutSeconds: hook.timeout, name: name)
        if status & 0x7f != 0 {
            throw VesselError.setup("\(name) was killed by signal \(status & 0x7f)")
        }
        let code = (status >> 8) & 0xff
        if code != 0 { throw VesselError.setup("\(name) exited with status \(code)") }
    }

    static func inheritedEnvironment() -> [String] {
        var entries: [String] = []
        var cursor = environ
        while let entry = cursor.pointee {
            entries.append(String(cString: entry))
            cursor += 1
        }
        return entries
    }

    /// Waits for the hook, bounded by its timeout, through a pidfd.
    static func wait(_ pid: pid_t, timeoutSeconds: Int?, name: String) throws(VesselError) -> Int32 {
        if let timeoutSeconds {
            let pidfd = vessel_pidfd_open(pid)
            if pidfd >= 0 {
                defer { close(pidfd) }
                var poller = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
                var ready: Int32
                let milliseconds = pollTimeout(seconds: timeoutSeconds)
                repeat { ready = poll(&poller, 1, milliseconds) } while ready < 0 && errno == EINTR
                if ready == 0 {
                    kill(pid, SIGKILL)
                    _ = Spawner.wait(pid)
                    throw VesselError.setup("\(name) timed out after \(timeoutSeconds) s")
                }
            }
        }
        return Spawner.wait(pid)
    }

    /// poll(2)'s timeout for a hook timeout in seconds: milliseconds, or -1
    /// (no limit) past what an Int32 of milliseconds holds (about 24.8
    /// days), where converting would trap (any Int decodes from config.json).
    static func pollTimeout(seconds: Int) -> Int32 {
        guard seconds > 0 else { return 0 }
        return seconds > Int(Int32.max) / 1000 ? -1 : Int32(seconds * 1000)
    }
}
