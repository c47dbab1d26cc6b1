import Errors
import Glibc
import Linux
import OSKit
import OCI

// Which cgroup a new container gets. Root: /vessel/<id> or cgroupsPath,
// as always. Rootless (Privileges.isRootless): a cgroup only inside a
// cgroup v2 subtree delegated to the user (writable by them), and with no
// cgroupsPath one under vessel's own cgroup, as runc places it; otherwise
// none, unless the config needs one: a limit or an explicit cgroupsPath is
// then an error naming the field, never silently dropped.
struct CgroupPlacement {
    let rootless: Bool
    let euid: uid_t

    static var current: CgroupPlacement { CgroupPlacement(rootless: Privileges.isRootless, euid: geteuid()) }

    /// The cgroup, or nil for a rootless container that has none.
    func cgroup(
        for linux: LinuxConfig, id: ContainerID, settings: [CgroupSetting],
        mountPoint: String? = Cgroup.findMountPoint(),
        isWritable: (Cgroup) -> Bool = { $0.isWritableByCaller }
    ) throws -> Cgroup? {
        guard let mountPoint else {
            guard rootless else {
                throw VesselError.unsupported("no cgroup v2 hierarchy is mounted (looked at /sys/fs/cgroup and /sys/fs/cgroup/unified)")
            }
            return try none(because: "no cgroup v2 hierarchy is mounted", linux: linux, settings: settings)
        }
        let given = linux.cgroupsPath.flatMap { $0.isEmpty ? nil : $0 }
        let path = Cgroup.path(cgroupsPath: rootless ? given ?? id.value : given, containerID: id.value)
        guard let cgroup = Cgroup(validatingMountPoint: mountPoint, path: path) else {
            throw VesselError.invalidValue(
                field: "linux.cgroupsPath", reason: "\(path.debugDescription) is the cgroup2 root or vessel's own cgroup (or one above it), not a cgroup of the container's own")
        }
        guard rootless, !isWritable(cgroup) else { return cgroup }
        return try none(
            because: "\(cgroup.directory) is not in a cgroup v2 subtree delegated to uid \(euid)",
            linux: linux, settings: settings)
    }

    /// No cgroup, unless the config asks for what needs one.
    func none(because reason: String, linux: LinuxConfig, settings: [CgroupSetting]) throws -> Cgroup? {
        if let path = linux.cgroupsPath, !path.isEmpty {
            throw VesselError.invalidValue(field: "linux.cgroupsPath", reason: "rootless: \(reason)")
        }
        if let setting = settings.first {
            throw VesselError.unsupported(field: setting.field, reason: "a limit needs a cgroup, and this rootless container has none: \(reason)")
        }
        return nil
    }
}
