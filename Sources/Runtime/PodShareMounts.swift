import Errors
import Glibc
import Linux
import MicroVM
import OSKit

// The host side of a pod's share (PodShare): the sandbox's pod directory
// is a private bind mount of itself, so the members' binds below it
// propagate to no other mount namespace. Each bind is made a slave
// (recursively): mounts the host makes below a shared source still reach
// the guest, as in the container's own namespace with rslave, and no
// unmount of ours ever propagates back to the host's mounts (an unmount
// below a shared mount unmounts its peers' copies). Every target is made
// here, under the sandbox's state directory (0700, root's); the sources are
// the host paths config.json names, as a linux-mode bind mount's are.
enum PodShareMounts {
    static func prepare(sandboxDirectory: String) throws -> String {
        let pod = PodShare.hostDirectory(ofSandbox: sandboxDirectory)
        try sys("mkdir \(pod)", mkdir(pod, 0o700))
        try sys("bind-mount \(pod) on itself", mount(pod, pod, nil, UInt(MS_BIND), nil))
        try sys("make \(pod) a private mount", mount(nil, pod, nil, UInt(MS_PRIVATE), nil))
        return pod
    }

    /// Binds a member's root filesystem and mount sources under its entry.
    static func bind(_ binds: [PodBind], member id: String, sandboxDirectory: String) throws {
        let base = PodShare.hostDirectory(ofSandbox: sandboxDirectory) + "/" + id
        if mkdir(base, 0o700) != 0 {
            throw VesselError.vmConfig("container \(id) has an entry in the pod's VM already (\(base))")
        }
        do {
            for bind in binds {
                guard FileIO.exists(bind.source) else { throw VesselError.vmConfig("\(bind.field): \(bind.source) does not exist") }
                let target = base + "/" + bind.name
                if bind.isDirectory {
                    try sys("mkdir \(target)", mkdir(target, 0o700))
                } else {
                    let fd = open(target, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
                    guard fd >= 0 else { throw VesselError.system("create \(target)") }
                    close(fd)
                }
                guard mount(bind.source, target, nil, UInt(MS_BIND | MS_REC), nil) == 0 else {
                    throw VesselError.system("\(bind.field): bind \(bind.source) into the pod's VM")
                }
                try sys("make \(target) a slave mount", mount(nil, target, nil, UInt(MS_SLAVE | MS_REC), nil))
            }
        } catch {
            release(member: id, sandboxDirectory: sandboxDirectory)
            throw error
        }
    }

    /// Detaches a member's binds and removes its entry.
    static func release(member id: String, sandboxDirectory: String) {
        detachAndRemove(PodShare.hostDirectory(ofSandbox: sandboxDirectory) + "/" + id)
    }

    /// Detaches the topmost mounts at or below `directory` (each takes
    /// what is mounted below it along; a few rounds for mounts stacked on
    /// one point), then removes the tree; never through a mount: if one
    /// stays, so does the tree.
    static func detachAndRemove(_ directory: String) {
        guard FileIO.exists(directory) else { return }
        for _ in 0..<4 {
            let points = MountTable.mountPoints(under: directory).reversed()
            if points.isEmpty { break }
            var detached: [String] = []
            for point in points where !detached.contains(where: { point == $0 || point.hasPrefix($0 + "/") }) {
                umount2(point, Int32(MNT_DETACH))
                detached.append(point)
            }
        }
        guard MountTable.mountPoints(under: directory).isEmpty else { return }
        FileIO.removeTree(directory)
    }
}
