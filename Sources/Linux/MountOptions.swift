import OSKit
import Glibc

// A mount's `options` split into mount(2) flags, propagation changes and
// the filesystem-specific data string, as mount(8) reads them; for bind
// mounts, also the mount_setattr(2) attributes to set and clear on the new
// mount and, for the recursive forms (`rro`, `rnosuid`, ... and `ro` on an
// `rbind`), on every mount below it.
public struct MountOptions: Equatable {
    public var flags: UInt = 0
    public var propagation: [UInt] = []
    public var data: [String] = []
    public var isBind = false
    /// mount_setattr attributes for the bind's top mount.
    public var attributes = MountAttributes()
    /// mount_setattr attributes for the whole bound subtree.
    public var recursiveAttributes = MountAttributes()

    static let setFlags: [String: UInt] = [
        "ro": UInt(MS_RDONLY), "nosuid": UInt(MS_NOSUID), "nodev": UInt(MS_NODEV), "noexec": UInt(MS_NOEXEC),
        "sync": UInt(MS_SYNCHRONOUS), "dirsync": UInt(MS_DIRSYNC), "remount": UInt(MS_REMOUNT),
        "mand": UInt(MS_MANDLOCK), "noatime": UInt(MS_NOATIME), "nodiratime": UInt(MS_NODIRATIME),
        "relatime": UInt(MS_RELATIME), "strictatime": UInt(MS_STRICTATIME), "silent": UInt(MS_SILENT),
        "lazytime": UInt(1 << 25), "nosymfollow": UInt(256),
        "bind": UInt(MS_BIND), "rbind": UInt(MS_BIND | MS_REC),
    ]
    static let clearFlags: [String: UInt] = [
        "rw": UInt(MS_RDONLY), "suid": UInt(MS_NOSUID), "dev": UInt(MS_NODEV), "exec": UInt(MS_NOEXEC),
        "async": UInt(MS_SYNCHRONOUS), "nomand": UInt(MS_MANDLOCK), "atime": UInt(MS_NOATIME),
        "diratime": UInt(MS_NODIRATIME), "norelatime": UInt(MS_RELATIME), "nostrictatime": UInt(MS_STRICTATIME),
        "nolazytime": UInt(1 << 25), "symfollow": UInt(256), "loud": UInt(MS_SILENT), "defaults": 0,
    ]
    static let propagationFlags: [String: UInt] = [
        "private": UInt(MS_PRIVATE), "rprivate": UInt(MS_PRIVATE | MS_REC),
        "shared": UInt(MS_SHARED), "rshared": UInt(MS_SHARED | MS_REC),
        "slave": UInt(MS_SLAVE), "rslave": UInt(MS_SLAVE | MS_REC),
        "unbindable": UInt(MS_UNBINDABLE), "runbindable": UInt(MS_UNBINDABLE | MS_REC),
    ]
    /// Options the runtime consumes itself, never passed to the kernel.
    static let runtimeOnly: Set<String> = ["tmpcopyup", "notmpcopyup", "idmap", "ridmap"]

    public init(_ options: [String], type: String?) {
        for option in options {
            if let flag = Self.setFlags[option] {
                flags |= flag
                attributes.apply(flag: flag, set: true)
            } else if let flag = Self.clearFlags[option] {
                flags &= ~flag
                attributes.apply(flag: flag, set: false)
            } else if let flag = Self.propagationFlags[option] {
                propagation.append(flag)
            } else if let (flag, set) = Self.recursive(option) {
                recursiveAttributes.apply(flag: flag, set: set)
            } else if Self.runtimeOnly.contains(option) || option.hasPrefix("idmap=") || option.hasPrefix("x-") {
                continue
            } else {
                data.append(option)
            }
        }
        isBind = flags & UInt(MS_BIND) != 0 || type == "bind"
        if isBind {
            flags |= UInt(MS_BIND)
            // `ro` on a recursive bind covers what is mounted below it too:
            // a read-only volume must not hold a writable submount.
            if flags & UInt(MS_REC) != 0 && flags & UInt(MS_RDONLY) != 0 {
                recursiveAttributes.apply(flag: UInt(MS_RDONLY), set: true)
            }
        }
    }

    /// `rro` → (MS_RDONLY, set), `rrw` → (MS_RDONLY, clear), and so on.
    static func recursive(_ option: String) -> (UInt, Bool)? {
        guard option.hasPrefix("r"), option != "rbind" else { return nil }
        let base = String(option.dropFirst())
        if let flag = setFlags[base], flag & UInt(MS_BIND | MS_REMOUNT) == 0 { return (flag, true) }
        if let flag = clearFlags[base], flag != 0 { return (flag, false) }
        return nil
    }

    /// Options a bind mount cannot take: anything that is not a flag,
    /// a propagation or a runtime option would be filesystem data, which a
    /// bind ignores. Returned so the config can be refused, naming them.
    public var unknownForBind: [String] { isBind ? data : [] }

    /// For the rootfs propagation setting ("rslave" and so on).
    public static func propagation(named name: String) -> UInt? { propagationFlags[name] }
}

/// mount_setattr(2) attributes to set and to clear.
public struct MountAttributes: Equatable {
    public var set: UInt64 = 0
    public var clear: UInt64 = 0

    public init(set: UInt64 = 0, clear: UInt64 = 0) {
        self.set = set
        self.clear = clear
    }

    public var isEmpty: Bool { self.set == 0 && clear == 0 }

    // <linux/mount.h>
    static let readOnly: UInt64 = 0x1, noSUID: UInt64 = 0x2, noDev: UInt64 = 0x4, noExec: UInt64 = 0x8
    static let atimeMask: UInt64 = 0x70, noAtime: UInt64 = 0x10, strictAtime: UInt64 = 0x20
    static let noDirAtime: UInt64 = 0x80, noSymfollow: UInt64 = 0x20_0000, idmap: UInt64 = 0x10_0000

    /// Records what mount(2) flag `flag` asks (set or cleared), where
    /// mount_setattr has an attribute for it; others are ignored here.
    mutating func apply(flag: UInt, set isSet: Bool) {
        let simple: [(UInt, UInt64)] = [
            (UInt(MS_RDONLY), Self.readOnly), (UInt(MS_NOSUID), Self.noSUID), (UInt(MS_NODEV), Self.noDev),
            (UInt(MS_NOEXEC), Self.noExec), (UInt(MS_NODIRATIME), Self.noDirAtime), (UInt(256), Self.noSymfollow),
        ]
        for (mountFlag, attribute) in simple where flag == mountFlag {
            if isSet { set |= attribute; clear &= ~attribute } else { clear |= attribute; set &= ~attribute }
            return
        }
        // The access-time mode is one field: setting any mode clears the field first.
        let modes: [(UInt, UInt64)] = [(UInt(MS_RELATIME), 0), (UInt(MS_NOATIME), Self.noAtime), (UInt(MS_STRICTATIME), Self.strictAtime)]
        for (mountFlag, mode) in modes where flag == mountFlag {
            set &= ~Self.atimeMask
            clear |= Self.atimeMask
            // Clearing noatime or strictatime means relatime, the default.
            if isSet { set |= mode }
            return
        }
    }
}
