import Errors
import CVessel
import Glibc
import SystemPackage

// Swift face of vessel_spawn: every process vessel starts (the container's
// init, hooks) goes through clone3 in the C shim, so no Swift code runs
// between fork and exec (docs/decisions.md, "Process model").
public struct SpawnRequest {
    public var path: String
    public var arguments: [String]
    public var environment: [String]
    public var cloneFlags: UInt64 = 0
    /// Namespaces to join, in order: each fd with the CLONE_NEW* type it
    /// must be (setns refuses another), or 0 where the fd came from the
    /// container's own /proc/<pid>/ns and is right by construction.
    public var joinNamespaces: [(fd: Int32, type: Int32)] = []
    public var joinPIDNamespaceFD: Int32 = -1
    /// The child joins the pid namespace and forks the process (a user
    /// cannot enter it from outside the container's user namespace).
    public var joinPIDNamespaceInChild = false
    public var stdio: (Int32, Int32, Int32) = (-1, -1, -1)
    public var syncFD: Int32 = -1
    public var newSession = false
    public var protectExecutable = false
    public var becomeRoot = false
    public var protectThenJoin = false
    /// A signal the child gets when the spawning thread's process dies (0: none).
    public var parentDeathSignal: Int32 = 0
    /// A cgroup v2 directory (open fd) the child is born in (CLONE_INTO_CGROUP),
    /// or -1. Writing a pid to cgroup.procs instead takes the kernel's
    /// cgroup_threadgroup_rwsem for writing, which waits for an RCU grace
    /// period: 5 to 10 ms on an idle-ish machine.
    public var cgroupFD: Int32 = -1
    /// The child's working directory, or nil for the caller's.
    public var directory: String?
    /// The child goes on in the caller instead of exec'ing `path`: `spawn`
    /// returns 0 in it, as fork does (see vessel_spawn). Refused with EDEADLK,
    /// and nothing cloned, unless this process has exactly one thread.
    public var inPlace = false
    /// With `inPlace`: a close-on-exec descriptor the child keeps open.
    public var keepFD: Int32 = -1
    /// Paths the child opens O_PATH onto these fds (reserved by the caller,
    /// not close-on-exec) before `becomeRoot`, with the caller's uid: in a
    /// new user namespace its root may reach less (see vessel_spawn_args).
    public var openBeforeRoot: [(path: String, fd: Int32)] = []

    public init(path: String, arguments: [String], environment: [String]) {
        self.path = path
        self.arguments = arguments
        self.environment = environment
    }
}

public enum Spawner {
    /// The child's pid; 0 in the child of an `inPlace` request.
    public static func spawn(_ request: SpawnRequest) throws(VesselError) -> pid_t {
        let argv = CStringArray(request.arguments)
        let envp = CStringArray(request.environment)
        let openPaths = CStringArray(request.openBeforeRoot.map(\.path))
        let openTargets = request.openBeforeRoot.map(\.fd)
        defer {
            argv.free()
            envp.free()
            openPaths.free()
        }
        var args = vessel_spawn_args()
        args.clone_flags = request.cloneFlags
        let joins = request.joinNamespaces.prefix(Int(VESSEL_MAX_JOIN))
        withUnsafeMutableBytes(of: &args.join_fds) { raw in
            let fds = raw.bindMemory(to: Int32.self)
            for (index, join) in joins.enumerated() { fds[index] = join.fd }
        }
        withUnsafeMutableBytes(of: &args.join_types) { raw in
            let types = raw.bindMemory(to: Int32.self)
            for (index, join) in joins.enumerated() { types[index] = join.type }
        }
        args.join_count = Int32(joins.count)
        args.join_pid_fd = request.joinPIDNamespaceFD
        args.join_pid_in_child = request.joinPIDNamespaceInChild ? 1 : 0
        args.stdio_fds = request.stdio
        args.sync_fd = request.syncFD
        args.new_session = request.newSession ? 1 : 0
        args.protect_exe = request.protectExecutable ? 1 : 0
        args.become_root = request.becomeRoot ? 1 : 0
        args.protect_then_join = request.protectThenJoin ? 1 : 0
        args.parent_death_signal = request.parentDeathSignal
        if request.cgroupFD >= 0 {
            args.into_cgroup = 1
            args.cgroup_fd = request.cgroupFD
        }
        args.in_place = request.inPlace ? 1 : 0
        args.keep_fd = request.keepFD
        let pid = request.path.withCString { path in
            withOptionalCString(request.directory) { directory in
                args.directory = directory
                args.path = path
                args.argv = UnsafePointer(argv.pointer)
                args.envp = UnsafePointer(envp.pointer)
                return openTargets.withUnsafeBufferPointer { targets in
                    args.open_paths = UnsafePointer(openPaths.pointer)
                    args.open_targets = targets.baseAddress
                    args.open_count = Int32(targets.count)
                    return vessel_spawn(&args)
                }
            }
        }
        if pid < 0 { throw VesselError.system("spawn \(request.path)", errno: Errno(rawValue: -pid)) }
        return pid
    }

    /// Spawns the child into the cgroup v2 `directory` from birth where the kernel can
    /// (CLONE_INTO_CGROUP, Linux 5.7); otherwise, or if that clone fails,
    /// spawns it as before and returns with `joined` false: the caller then
    /// writes the pid to cgroup.procs, which gives the same errors as ever.
    public static func spawn(_ request: SpawnRequest, intoCgroup directory: String?) throws(VesselError) -> (pid: pid_t, joined: Bool) {
        guard let directory else { return (try spawn(request), false) }
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return (try spawn(request), false) }
        defer { close(fd) }
        var into = request
        into.cgroupFD = fd
        do {
            return (try spawn(into), true)
        } catch  where error.errno == .deadlock {
            throw error  // an in-place clone refused for threads: no other clone would do
        } catch {
            return (try spawn(request), false)
        }
    }

    /// Which way a pipe between parent and child carries bytes.
    public enum PipeDirection {
        case toChild, fromChild
    }

    /// Spawns with a new pipe: `attach` hands the child its end (as a stdio
    /// fd, or named in its environment; the end is close-on-exec until then),
    /// the parent gets the other, close-on-exec. Both close if the spawn fails.
    public static func spawn(
        _ request: SpawnRequest, pipe direction: PipeDirection,
        attach: (inout SpawnRequest, Int32) -> Void
    ) throws(VesselError) -> (pid: pid_t, fd: Int32) {
        var ends: [Int32] = [0, 0]
        try sys("pipe", vessel_pipe(&ends))
        let (childEnd, ourEnd) = direction == .toChild ? (ends[0], ends[1]) : (ends[1], ends[0])
        var request = request
        attach(&request, childEnd)
        let pid: pid_t
        do {
            pid = try spawn(request)
        } catch {
            close(ourEnd)
            close(childEnd)
            throw error
        }
        close(childEnd)
        return (pid, ourEnd)
    }

    /// waitpid that retries on EINTR; returns the raw wait status.
    public static func wait(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return -1 }
        }
        return status
    }

    /// A wait status as a shell exit code: 128+N after signal N.
    public static func exitCode(fromWaitStatus status: Int32) -> Int32 {
        if status & 0x7f == 0 { return (status >> 8) & 0xff }
        return 128 + (status & 0x7f)
    }
}

/// A NULL-terminated char* array for execve, freed explicitly.
public struct CStringArray {
    public let pointer: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
    let count: Int

    public init(_ strings: [String]) {
        count = strings.count
        pointer = .allocate(capacity: strings.count + 1)
        for (index, string) in strings.enumerated() { pointer[index] = strdup(string) }
        pointer[strings.count] = nil
    }

    public func free() {
        for index in 0..<count { Glibc.free(pointer[index]) }
        pointer.deallocate()
    }
}

/// `body` with the C string of `string`, or with NULL when there is none.
private func withOptionalCString<Result>(_ string: String?, _ body: (UnsafePointer<CChar>?) -> Result) -> Result {
    guard let string else { return body(nil) }
    return string.withCString { body($0) }
}
