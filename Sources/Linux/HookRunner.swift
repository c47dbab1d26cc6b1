import OSKit
import Errors
import CVessel
import Glibc
import OCI

// Runs runtime-spec hooks: each gets the container state on stdin, its own
// args and env (the runtime's when it has none), runs in the bundle where
// runc's do, and is killed at its timeout. Its stdout and stderr are kept,
// as runc keeps them, and named in the one error line when it fails.
public enum HookRunner {
    /// `directory`: the hooks' working directory (the bundle), or nil for ours.
    public static func run(_ hooks: [Hook], kind: String, state: String, directory: String? = nil) throws(VesselError) {
        for (index, hook) in hooks.enumerated() {
            let name = "hooks.\(kind)[\(index)] (\(hook.path))"
            DebugTrace.step("running \(name)")
            // runc's words lead ("error running prestart hook #1"): its tests and scripts match on them.
            do { try run(hook, name: name, state: state, directory: directory) } catch { throw error.wrapped("error running \(kind) hook #\(index)") }
        }
    }

    static func run(_ hook: Hook, name: String, state: String, directory: String?) throws(VesselError) {
        // Without `env`, a hook inherits the runtime's environment, as runc's do.
        var request = SpawnRequest(path: hook.path, arguments: hook.args ?? [hook.path], environment: hook.env ?? inheritedEnvironment())
        request.directory = directory
        var outPipe: [Int32] = [-1, -1], errPipe: [Int32] = [-1, -1]
        try sys("pipe", vessel_pipe(&outPipe))
        do { try sys("pipe", vessel_pipe(&errPipe)) } catch {
            outPipe.forEach { close($0) }
            throw error
        }
        let pid: pid_t, stdin: Int32
        do {
            (pid, stdin) = try Spawner.spawn(request, pipe: .toChild) { $0.stdio = ($1, outPipe[1], errPipe[1]) }
        } catch {
            (outPipe + errPipe).forEach { close($0) }
            throw VesselError(error).wrapped(name)
        }
        close(outPipe[1])
        close(errPipe[1])
        let output = HookOutput(stdout: outPipe[0], stderr: errPipe[0])
        defer { output.close() }
        let input = HookInput(fd: stdin, bytes: Array(state.utf8))
        defer { input.close() }
        // A hook that does not read its stdin must not kill us with SIGPIPE;
        // the old disposition comes back, or the container's process (the
        // init execs it) would start with SIGPIPE ignored.
        let previous = signal(SIGPIPE, SIG_IGN)
        defer { signal(SIGPIPE, previous) }
        let status = try wait(pid, timeoutSeconds: hook.timeout, name: name, input: input, output: output)
        if status & 0x7f != 0 {
            // The signal in Go's words as well ("bad system call"), as runc's line has it.
            let words = strsignal(status & 0x7f).map { String(cString: $0).lowercased() } ?? "unknown signal"
            throw VesselError.setup("\(name) was killed by signal \(status & 0x7f) (\(words))\(output.described)")
        }
        let code = (status >> 8) & 0xff
        if code != 0 { throw VesselError.setup("\(name) exited with status \(code)\(output.described)") }
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

    /// Waits for the hook, bounded by its timeout, through a pidfd, reading
    /// its output meanwhile (a full pipe would stall it). What a process it
    /// left behind writes after it exits is not waited for.
    /// The state goes to its stdin in the same loop, as the pipe takes it:
    /// a hook that reads nothing, or writes much before it reads, holds
    /// neither side up.
    static func wait(_ pid: pid_t, timeoutSeconds: Int?, name: String, input: HookInput, output: HookOutput) throws(VesselError) -> Int32 {
        let pidfd = vessel_pidfd_open(pid)
        guard pidfd >= 0 else {
            input.writeBlocking()
            output.readToEnd()
            return Spawner.wait(pid)
        }
        defer { close(pidfd) }
        // pollTimeout's -1 (past what poll can wait) means no deadline.
        let limit = timeoutSeconds.map { pollTimeout(seconds: $0) } ?? -1
        let deadline = SystemClock.now() + Double(limit) / 1000
        while true {
            var fds =
                [pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0), pollfd(fd: input.pendingFD, events: Int16(POLLOUT), revents: 0)]
                + output.openFDs.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let left = limit < 0 ? -1 : Int32(max(0, (deadline - SystemClock.now()) * 1000))
            let ready = poll(&fds, nfds_t(fds.count), left)
            if ready < 0 && errno == EINTR { continue }
            if ready == 0, let timeoutSeconds {
                kill(pid, SIGKILL)
                _ = Spawner.wait(pid)
                throw VesselError.setup("\(name) timed out after \(timeoutSeconds) s\(output.described)")
            }
            if fds[1].revents != 0 { input.writeAvailable() }
            for entry in fds.dropFirst(2) where entry.revents != 0 { output.read(entry.fd) }
            if fds[0].revents != 0 { break }
        }
        output.drainWithoutWaiting()
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
