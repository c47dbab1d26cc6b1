import Glibc

// A mount's `options` split into mount(2) flags, propagation changes and
// the filesystem-specific data string, as mount(8) reads them.
public struct MountOptions: Equatable {
    public var flags: UInt = 0
    public var propagation: [UInt] = []
    public var data: [String] = []
    public var isBind = false

    static let setFlags: [String: UInt] = [
        "ro": UInt(MS_RDONLY), "nosuid": UInt(MS_NOSUID), "nodev": UInt(MS_NODEV), "noexec": UInt(MS_NOEXEC),
        "sync": UInt(MS_SYNCHRONOUS), "dirsync": UInt(MS_DIRSYNC), "remount": UInt(MS_REMOUNT),
        "mand": UInt(MS_MANDLOCK), "noatime": UInt(MS_NOATIME), "nodiratime": UInt(MS_NODIRATIME),
        "relatime": UInt(MS_RELATIME), "strictatime": UInt(MS_STRICTATIME), "silent": UInt(MS_SILENT),
        "bind": UInt(MS_BIND), "rbind": UInt(MS_BIND | MS_REC),
    ]
    static let clearFlags: [String: UInt] = [
        "rw": UInt(MS_RDONLY), "suid": UInt(MS_NOSUID), "dev": UInt(MS_NODEV), "exec": UInt(MS_NOEXEC),
        "async": UInt(MS_SYNCHRONOUS), "nomand": UInt(MS_MANDLOCK), "atime": UInt(MS_NOATIME),
        "diratime": UInt(MS_NODIRATIME), "norelatime": UInt(MS_RELATIME), "defaults": 0,
    ]
    static let propagationFlags: [String: UInt] = [
        "private": UInt(MS_PRIVATE), "rprivate": UInt(MS_PRIVATE | MS_REC),
        "shared": UInt(MS_SHARED), "rshared": UInt(MS_SHARED | MS_REC),
        "slave": UInt(MS_SLAVE), "rslave": UInt(MS_SLAVE | MS_REC),
        "unbindable": UInt(MS_UNBINDABLE), "runbindable": UInt(MS_UNBINDABLE | MS_REC),
    ]

    public init(_ options: [String], type: String?) {
        for option in options {
            if let flag = Self.setFlags[option] {
                flags |= flag
            } else if let flag = Self.clearFlags[option] {
                flags &= ~flag
            } else if let flag = Self.propagationFlags[option] {
                propagation.append(flag)
            } else if option == "tmpcopyup" || option.hasPrefix("idmap") {
                continue
            } else {
                data.append(option)
            }
        }
        isBind = flags & UInt(MS_BIND) != 0 || type == "bind"
        if isBind { flags |= UInt(MS_BIND) }
    }

    /// The flags a bind mount needs in its second, remounting mount(2) call:
    /// MS_BIND ignores everything but MS_REC on the first.
    public var remountFlags: UInt? {
        let extra = flags & ~UInt(MS_BIND | MS_REC | MS_REMOUNT)
        return extra == 0 ? nil : extra | UInt(MS_BIND | MS_REMOUNT)
    }

    /// For the rootfs propagation setting ("rslave" and so on).
    public static func propagation(named name: String) -> UInt? { propagationFlags[name] }
}
