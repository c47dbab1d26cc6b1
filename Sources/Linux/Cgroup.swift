import OSKit
import Errors
import CVessel
import Glibc
import Synchronization
import OCI

// One container's cgroup in the cgroup v2 hierarchy (docs/decisions.md, "cgroups v2 only").
public struct Cgroup: Sendable {
    /// Where the cgroup2 hierarchy is mounted.
    public let mountPoint: String
    /// The cgroup's path inside the hierarchy, starting with "/".
    public let path: String

    public var directory: String { mountPoint + path }

    public init(mountPoint: String, path: String) {
        self.mountPoint = mountPoint
        self.path = path
    }

    /// Finds the cgroup2 mount: /sys/fs/cgroup on a v2 host, its `unified`
    /// directory on a v1/v2 hybrid. Nil when the host has no cgroup2 at all.
    public static func findMountPoint() -> String? {
        for candidate in ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"] {
            if vessel_is_cgroup2(candidate) != 0 { return candidate }
        }
        return nil
    }

    /// The path for a container: cgroupsPath if given (relative paths are
    /// under the runtime's own cgroup, as runc does), else /vessel/<id>.
    public static func path(cgroupsPath: String?, containerID: String) -> String {
        guard let given = cgroupsPath, !given.isEmpty else { return "/vessel/\(containerID)" }
        if given.hasPrefix("/") { return normalized(given) }
        return normalized(ownCgroup() + "/" + given)
    }

    /// The cgroup a state file names, or nil unless it is one a container
    /// may own: on the host's cgroup2 mount, a normalized absolute path
    /// (no `..`, no `//`), and neither the root nor the runtime's own cgroup
    /// or one of its ancestors. State files are input: what they name is
    /// killed and removed only after this check.
    public init?(validatingMountPoint mountPoint: String, path: String) {
        guard mountPoint == Self.findMountPoint(), Self.isContainerPath(path) else { return nil }
        self.init(mountPoint: mountPoint, path: path)
    }

    /// Whether `path` may be a container's cgroup (see the initializer above).
    public static func isContainerPath(_ path: String) -> Bool {
        guard path.hasPrefix("/"), normalized(path) == path, path != "/" else { return false }
        let own = ownCgroup()
        return own != path && !own.hasPrefix(path + "/")
    }

    static func normalized(_ path: String) -> String { LexicalPath.absolute(path) }

    /// The runtime's own cgroup, read once per process: every check of a
    /// recorded cgroup asks for it (four times in a `run`), and on a hybrid
    /// host /proc/self/cgroup lists every v1 hierarchy. Keyed by pid, so a
    /// child cloned in place (in a cgroup namespace of its own) reads its own.
    static func ownCgroup() -> String {
        let pid = getpid()
        if let known = ownCgroupRead.withLock({ $0 }), known.pid == pid { return known.path }
        let path = unifiedPath(ofProcess: "self") ?? "/"
        ownCgroupRead.withLock { $0 = (pid, path) }
        return path
    }

    /// The cgroup v2 path of a process ("self" or a pid), as /proc/<pid>/cgroup's `0::` line gives it.
    public static func unifiedPath(ofProcess process: String) -> String? {
        guard let text = try? FileIO.read("/proc/\(process)/cgroup") else { return nil }
        return text.split(separator: "\n").first { $0.hasPrefix("0::") }.map { String($0.dropFirst(3)) }
    }

    private static let ownCgroupRead = Mutex<(pid: pid_t, path: String)?>(nil)

    /// Creates the cgroup and enables in each ancestor the controllers the
    /// settings need; a controller the host lacks is an error naming it.
    public func create(settings: [CgroupSetting]) throws -> Bool {
        let existed = FileIO.isDirectory(directory)
        let needed = Set(settings.map(\.controller)).subtracting(CgroupResources.coreControllers)
        var ancestors: [String] = [mountPoint]
        var current = mountPoint
        for part in path.split(separator: "/") {
            // String's own appends: `+= "/" + part` went through generic ones.
            current.append("/")
            current.append(contentsOf: part)
            ancestors.append(current)
        }
        let available = Self.controllers(in: mountPoint + "/cgroup.controllers")
        for controller in needed.sorted() {
            guard available.contains(controller) else {
                let field = Self.field(needing: controller, in: settings)
                throw VesselError.controllerUnavailable(controller: controller, field: field, cgroup: mountPoint)
            }
        }
        for (index, dir) in ancestors.enumerated() where index < ancestors.count - 1 {
            if index > 0 && mkdir(dir, 0o755) != 0 && errno != EEXIST { throw VesselError.system("mkdir \(dir)") }
            let enabled = Self.controllers(in: dir + "/cgroup.subtree_control")
            for controller in needed.sorted() where !enabled.contains(controller) {
                do {
                    try FileIO.write(dir + "/cgroup.subtree_control", "+" + controller)
                } catch {
                    let field = Self.field(needing: controller, in: settings)
                    throw VesselError.setup("config.json: \(field): cannot enable the \(controller) controller in \(dir): \(error.reason)")
                }
            }
        }
        if mkdir(directory, 0o755) != 0 && errno != EEXIST { throw VesselError.system("mkdir \(directory)") }
        try apply(settings)
        return !existed
    }

    /// The config field to name when `controller` is missing or refused.
    static func field(needing controller: String, in settings: [CgroupSetting]) -> String {
        settings.first { $0.controller == controller }?.field ?? "linux.resources"
    }

    /// The controller names listed in cgroup.controllers or subtree_control.
    static func controllers(in file: String) -> Set<String> {
        let text = (try? FileIO.read(file)) ?? ""
        return Set(text.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init))
    }

    public func apply(_ settings: [CgroupSetting]) throws {
        for setting in settings {
            do {
                try FileIO.write(directory + "/" + setting.file, setting.value)
            } catch {
                throw VesselError.setup("config.json: \(setting.field): writing \(setting.value.debugDescription) to \(directory)/\(setting.file): \(error.reason)")
            }
        }
    }

    public func addProcess(_ pid: pid_t) throws(VesselError) {
        try FileIO.write(directory + "/cgroup.procs", "\(pid)")
    }

    public func processes() -> [pid_t] {
        let text = (try? FileIO.read(directory + "/cgroup.procs")) ?? ""
        return text.split(separator: "\n").compactMap { pid_t($0) }
    }

    public var exists: Bool { FileIO.isDirectory(directory) }

    /// Whether this caller (by its effective ids) may make the cgroup and
    /// move processes into it: its directory's cgroup.procs, or before it
    /// exists, the nearest existing ancestor, is writable. Delegation.
    public var isWritableByCaller: Bool {
        if exists { return faccessat(AT_FDCWD, directory + "/cgroup.procs", W_OK, AT_EACCESS) == 0 }
        var current = directory
        while current.count > mountPoint.count {
            current = String(current[..<(current.lastIndex(of: "/") ?? current.startIndex)])
            if FileIO.isDirectory(current) {
                return faccessat(AT_FDCWD, current, W_OK | X_OK, AT_EACCESS) == 0
                    && faccessat(AT_FDCWD, current + "/cgroup.procs", W_OK, AT_EACCESS) == 0
            }
        }
        return false
    }

    public var isFrozen: Bool {
        ((try? FileIO.read(directory + "/cgroup.freeze")) ?? "0").hasPrefix("1")
    }

    public var isPopulated: Bool {
        let events = (try? FileIO.read(directory + "/cgroup.events")) ?? ""
        return events.contains("populated 1")
    }

    public func setFrozen(_ frozen: Bool) throws(VesselError) {
        try FileIO.write(directory + "/cgroup.freeze", frozen ? "1" : "0")
        // Wait (bounded) until the kernel reports the new state.
        for _ in 0..<1000 {
            let events = (try? FileIO.read(directory + "/cgroup.events")) ?? ""
            if events.contains(frozen ? "frozen 1" : "frozen 0") { return }
            usleep(1000)
        }
    }

    /// This cgroup and every cgroup below it, children before parents.
    public func subtree() -> [Cgroup] {
        let children = FileIO.listSubdirectories(directory)
        return children.flatMap { Cgroup(mountPoint: mountPoint, path: path + "/" + $0).subtree() } + [self]
    }

    /// The first of this cgroup (where it exists) and its ancestors whose
    /// cgroup.freeze is 1: a process cloned in stops before it can report.
    public func frozenDirectory() -> String? {
        var current = directory
        while current.count > mountPoint.count {
            if ((try? FileIO.read(current + "/cgroup.freeze")) ?? "0").hasPrefix("1") { return current }
            current = String(current[..<(current.lastIndex(of: "/") ?? current.startIndex)])
        }
        return nil
    }

    /// SIGKILLs every process in the cgroup and below; falls back to
    /// signalling each member where cgroup.kill is missing (kernels before
    /// 5.14). Never the root: its members are the whole host.
    public func killAll(signal: Int32 = SIGKILL) {
        guard mayEmpty else { return }
        if signal == SIGKILL, (try? FileIO.write(directory + "/cgroup.kill", "1")) != nil { return }
        for cgroup in subtree() {
            for pid in cgroup.processes() { kill(pid, signal) }
        }
    }

    /// A last guard under every caller's checks: never empty or remove the
    /// root, a path that walks (`..`, `//`), or a directory off cgroup2.
    var mayEmpty: Bool {
        path != "/" && Self.normalized(path) == path && vessel_is_cgroup2(directory) != 0
    }

    /// Kills what is left in the cgroup and its children, then removes them
    /// depth-first, waiting (bounded) for each to empty. Leaves ancestors
    /// alone: other containers may share them.
    public func destroy() {
        guard exists, mayEmpty else { return }
        if isFrozen { try? setFrozen(false) }
        killAll()
        // Most often empty already (`run` waited for its init): one rmdir,
        // without listing the directory (a readdir of cgroupfs, 34 entries).
        if rmdir(directory) == 0 { return }
        for cgroup in subtree() {
            for _ in 0..<500 {
                if rmdir(cgroup.directory) == 0 || errno != EBUSY { break }
                usleep(2000)
            }
        }
    }
}
