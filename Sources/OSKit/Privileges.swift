import Glibc

// What vessel may do on this host, as runc decides "rootless": not euid 0,
// or euid 0 inside a user namespace (rootless podman runs its runtime as
// root of the user's own namespace), where /sys/fs/cgroup and /run belong
// to the host's root, who is not us.
public enum Privileges {
    /// The host's initial user namespace maps every id to itself.
    static let initialMapping: [ArraySlice<UInt8>] = ["0", "0", "4294967295"].map { ArraySlice($0.utf8) }

    /// Whether /proc/self/uid_map is anything but the initial namespace's.
    /// Its fields compared as bytes: create asks twice.
    public static var inUserNamespace: Bool {
        guard let bytes = try? FileIO.readBytes("/proc/self/uid_map") else { return false }
        return bytes.split(whereSeparator: { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\n") }) != initialMapping
    }

    /// runc's rootless: cgroups and the state root are the user's, not the host's.
    public static var isRootless: Bool { geteuid() != 0 || inUserNamespace }
}
