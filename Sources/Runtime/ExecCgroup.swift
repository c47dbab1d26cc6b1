import Errors
import Linux
import OSKit

/// exec --cgroup: run the process in the container's cgroup or an existing
/// one below it, as runc's `--cgroup [<controller>:]<path>`. cgroup v2 has
/// one hierarchy, so one path and no controller prefix.
enum ExecCgroup {
    /// The cgroup the exec'd process joins: the container's, or the sub-cgroup asked for.
    static func choose(_ values: [String], container: Cgroup?, initPID: Int32) throws -> Cgroup? {
        guard let value = values.first else { return implicit(container, initPID: initPID) }
        guard values.count == 1 else {
            throw VesselError.invalidArgument("--cgroup given \(values.count) times: cgroup v2 has one hierarchy, so one path")
        }
        guard !value.contains(":") else {
            throw VesselError.invalidArgument("--cgroup \(value.debugDescription): cgroup v2 has one hierarchy: give the path without a controller")
        }
        let parts = value.split(separator: "/").filter { $0 != "." }
        // The container's own ("/") or below it, never beside or above it.
        // runc's words lead: its tests match on them.
        guard !parts.contains("..") else {
            throw VesselError.invalidArgument("--cgroup \(value.debugDescription): bad sub cgroup path: not below the container's cgroup")
        }
        guard let container else { throw VesselError.invalidArgument("--cgroup: the container has no cgroup of its own") }
        let sub = parts.isEmpty ? container : Cgroup(mountPoint: container.mountPoint, path: container.path + "/" + parts.joined(separator: "/"))
        guard sub.exists else {
            throw VesselError.invalidArgument("--cgroup \(value.debugDescription): error adding pid to cgroups: \(sub.directory): no such file or directory")
        }
        return sub
    }

    /// Without --cgroup: the container's own cgroup, unless domain
    /// controllers are on for its children, where cgroup v2 takes no
    /// process (EBUSY): then the init's, wherever below it the init moved,
    /// as runc falls back.
    static func implicit(_ container: Cgroup?, initPID: Int32) -> Cgroup? {
        guard let container, container.exists else { return nil }
        let controllers = (try? FileIO.read(container.directory + "/cgroup.subtree_control")) ?? ""
        guard controllers.contains(where: { !$0.isWhitespace }),
            let initPath = Cgroup.unifiedPath(ofProcess: "\(initPID)"), initPath.hasPrefix(container.path + "/")
        else { return container }
        return Cgroup(mountPoint: container.mountPoint, path: initPath)
    }
}
