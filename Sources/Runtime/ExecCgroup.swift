import Errors
import Linux

/// exec --cgroup: run the process in an existing cgroup below the
/// container's, as runc's `--cgroup [<controller>:]<path>`. cgroup v2 has
/// one hierarchy, so one path and no controller prefix.
enum ExecCgroup {
    /// The cgroup the exec'd process joins: the container's, or the sub-cgroup asked for.
    static func choose(_ values: [String], container: Cgroup?) throws -> Cgroup? {
        guard let value = values.first else { return container.flatMap { $0.exists ? $0 : nil } }
        guard values.count == 1 else {
            throw VesselError.invalidArgument("--cgroup given \(values.count) times: cgroup v2 has one hierarchy, so one path")
        }
        guard !value.contains(":") else {
            throw VesselError.invalidArgument("--cgroup \(value.debugDescription): cgroup v2 has one hierarchy: give the path without a controller")
        }
        let parts = value.split(separator: "/")
        // Below the container's own, never beside or above it.
        guard !parts.isEmpty, !parts.contains("..") else {
            throw VesselError.invalidArgument("--cgroup \(value.debugDescription): not a path below the container's cgroup")
        }
        guard let container else { throw VesselError.invalidArgument("--cgroup: the container has no cgroup of its own") }
        let sub = Cgroup(
            mountPoint: container.mountPoint,
            path: container.path + "/" + parts.filter { $0 != "." }.joined(separator: "/"))
        guard sub.exists else {
            throw VesselError.invalidArgument("--cgroup \(value.debugDescription): \(sub.directory) does not exist")
        }
        return sub
    }
}
