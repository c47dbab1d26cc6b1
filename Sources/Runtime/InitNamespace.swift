import Glibc
import OCI
import OSKit

// How a container without a cgroup (rootless, none delegated) is known:
// besides its init's start time, a namespace the init was created in, as
// /proc/<pid>/ns names it ("pid:[4026532201]"). With its own pid namespace
// that namespace also lists the container's processes, which is what
// `kill --all` and `ps` use in place of cgroup.procs.
enum InitNamespace {
    /// The first of pid, mnt and user that the config makes new.
    static func mark(of pid: pid_t, namespaces: [Namespace]) -> String? {
        let made = Set(namespaces.filter { $0.path == nil }.map(\.type))
        for (type, name) in [(NamespaceType.pid, "pid"), (.mount, "mnt"), (.user, "user")] where made.contains(type) {
            return try? FileIO.readLink("/proc/\(pid)/ns/\(name)")
        }
        return nil
    }

    /// Whether `pid` is in the namespace `mark` names, and that namespace is
    /// not vessel's own: a forged mark naming the host's must match nothing.
    static func holds(_ mark: String, pid: pid_t) -> Bool {
        guard let name = mark.split(separator: ":").first.map(String.init), !name.contains("/"),
            let own = try? FileIO.readLink("/proc/self/ns/\(name)"), own != mark
        else { return false }
        return (try? FileIO.readLink("/proc/\(pid)/ns/\(name)")) == mark
    }

    /// The live processes of the pid namespace `mark`, once the init has
    /// been checked to hold it; empty for a mark of another type.
    static func members(of mark: String, initPID: pid_t) -> [pid_t] {
        guard mark.hasPrefix("pid:"), holds(mark, pid: initPID) else { return [] }
        return FileIO.listDirectory("/proc").compactMap { pid_t($0) }.filter { pid in
            (try? FileIO.readLink("/proc/\(pid)/ns/pid")) == mark
        }
    }
}
