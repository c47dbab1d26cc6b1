import CVessel
import Errors
import Glibc
import Linux
import OSKit
import OCI

// What a user without root cannot have, refused before anything is made,
// each as one line naming the field (docs/decisions.md, "Rootless").
// Limits and cgroupsPath are CgroupPlacement's to refuse.
enum RootlessPreflight {
    static func check(_ spec: Spec, euid: uid_t = geteuid(), rootless: Bool = Privileges.isRootless) throws {
        let linux = spec.linux ?? LinuxConfig()
        if euid != 0 { try checkNamespaces(linux.namespaces ?? [], euid: euid) }
        if rootless { try checkDevices(linux.devices ?? []) }
    }

    /// Without root, everything happens inside a user namespace: a new one
    /// (which then owns every namespace the container makes) or one joined
    /// by path. A namespace joined by path can be entered only from the
    /// user namespace that owns it (setns needs CAP_SYS_ADMIN there).
    static func checkNamespaces(_ namespaces: [Namespace], euid: uid_t) throws {
        guard let userIndex = namespaces.firstIndex(where: { $0.type == .user }) else {
            throw VesselError.invalidValue(
                field: "linux.namespaces", reason: "uid \(euid) is not root: a rootless container needs a user namespace (vessel spec --rootless makes one)")
        }
        let joinedUser = namespaces[userIndex].path
        // The new namespaces are made at clone, before any join: outside a
        // user namespace of its own, a user may make none.
        if joinedUser != nil, let made = namespaces.first(where: { $0.path == nil }) {
            throw VesselError.invalidValue(
                field: "linux.namespaces",
                reason:
                    "uid \(euid) is not root: with the user namespace joined by path, a new \(made.type.rawValue) namespace cannot be made (join it by path too, or make a new user namespace)"
            )
        }
        for (index, namespace) in namespaces.enumerated() where namespace.type != .user {
            guard let path = namespace.path else { continue }
            let field = "linux.namespaces[\(index)].path"
            guard let joinedUser else {
                throw VesselError.invalidValue(
                    field: field,
                    reason:
                        "uid \(euid) is not root: the container's new user namespace cannot join the \(namespace.type.rawValue) namespace \(path), which it does not own (join the user namespace that owns it, by path)"
                )
            }
            if let problem = ownerProblem(of: path, type: namespace.type, userNamespace: joinedUser) {
                throw VesselError.invalidValue(field: field, reason: "uid \(euid) is not root: \(problem)")
            }
        }
    }

    /// Why `path` cannot be joined from the user namespace `userNamespace`.
    static func ownerProblem(of path: String, type: NamespaceType, userNamespace: String) -> String? {
        let target = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard target >= 0 else { return "cannot open the \(type.rawValue) namespace \(path): \(VesselError.system("open").reason)" }
        defer { close(target) }
        let owner = vessel_namespace_owner(target)
        guard owner >= 0 else { return "\(path) is not a namespace whose owner can be read" }
        defer { close(owner) }
        var ownerInfo = stat(), userInfo = stat()
        guard fstat(owner, &ownerInfo) == 0, stat(userNamespace, &userInfo) == 0,
            ownerInfo.st_dev == userInfo.st_dev, ownerInfo.st_ino == userInfo.st_ino
        else {
            return "the \(type.rawValue) namespace \(path) is not owned by the user namespace \(userNamespace) the container joins"
        }
        return nil
    }

    /// A user namespace cannot mknod a device: each is the host's node
    /// bound in, which must exist as the same device. (A FIFO is made.)
    static func checkDevices(_ devices: [Device]) throws {
        for (index, device) in devices.enumerated() where device.type != "p" {
            let wanted = "\(device.type) \(device.major ?? 0):\(device.minor ?? 0)"
            var info = stat()
            let kind: mode_t = device.type == "b" ? S_IFBLK : S_IFCHR
            let number = vessel_makedev(UInt32(truncatingIfNeeded: device.major ?? 0), UInt32(truncatingIfNeeded: device.minor ?? 0))
            let same = stat(device.path, &info) == 0 && info.st_mode & S_IFMT == kind && info.st_rdev == number
            if !same {
                throw VesselError.invalidValue(
                    field: "linux.devices[\(index)]",
                    reason: "rootless: a user namespace cannot create device nodes, and the host has no \(device.path) as \(wanted) to bind in its place")
            }
        }
    }
}
