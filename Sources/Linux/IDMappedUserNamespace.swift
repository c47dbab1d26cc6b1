import OSKit
import Errors
import CVessel
import Glibc
import OCI

// The user namespace an idmapped mount (mounts[].uidMappings/gidMappings)
// is mapped through: a child is cloned into a new user namespace and held
// there, its maps are written, its namespace is opened, and it is killed.
// The descriptor keeps the namespace alive for mount_setattr.
enum IDMappedUserNamespace {
    static func make(uidMappings: [IDMapping], gidMappings: [IDMapping]) throws -> Int32 {
        var fds: [Int32] = [0, 0]
        try sys("pipe", vessel_pipe(&fds))
        defer { close(fds[0]); close(fds[1]) }
        var request = SpawnRequest(path: "/proc/self/exe", arguments: ["vessel"], environment: [])
        request.cloneFlags = UInt64(NamespaceType.user.cloneFlag)
        // The child waits on the pipe, which never gets a byte: it is killed.
        request.syncFD = fds[0]
        let pid = try Spawner.spawn(request)
        defer {
            kill(pid, SIGKILL)
            _ = Spawner.wait(pid)
        }
        // The init may be in a pid namespace of its own while /proc is still
        // the host's: find the child there through a pidfd, never by number.
        let procPID = try pidInProcfs(pid)
        try FileIO.write("/proc/\(procPID)/uid_map", uidMappings.procMapText)
        try FileIO.write("/proc/\(procPID)/gid_map", gidMappings.procMapText)
        return try sys("open the idmap user namespace", open("/proc/\(procPID)/ns/user", O_RDONLY | O_CLOEXEC))
    }

    /// `pid` as the mounted /proc numbers it: a pidfd's fdinfo says "Pid:"
    /// in the procfs's own pid namespace.
    static func pidInProcfs(_ pid: pid_t) throws -> pid_t {
        let pidfd = try sys("pidfd_open \(pid)", vessel_pidfd_open(pid))
        defer { close(pidfd) }
        let info = try FileIO.read("/proc/self/fdinfo/\(pidfd)")
        for line in info.split(separator: "\n") where line.hasPrefix("Pid:") {
            if let number = pid_t(line.dropFirst(4).trimmingPrefix(while: { $0 == " " || $0 == "\t" })), number > 0 { return number }
        }
        throw VesselError.setup("cannot find process \(pid) in /proc")
    }
}
