import OSKit
import Errors
import CVessel
import Glibc
import OCI
import SystemPackage

// Builds the container's root filesystem inside its mount namespace:
// the rootfs bind, config mounts, /dev, then pivot_root and the masked and
// read-only paths. Runs in the container's init only. Every path inside the
// rootfs is resolved with InRoot and used as a descriptor, never as a
// string the container could redirect between the check and the use.
struct Rootfs {
    let spec: Spec
    let rootfs: String
    let cgroupDirectory: String?
    let newCgroupNamespace: Bool
    let inUserNamespace: Bool
    /// InitContext.bindSourceFDs: sources opened by the runtime, by mounts index.
    var bindSourceFDs: [Int32] = []

    var linux: LinuxConfig { spec.linux ?? LinuxConfig() }

    static let sysfsMagic = 0x6265_6572

    /// Everything before pivot_root.
    func prepare() throws {
        // As runc: "/" gets the requested propagation (rslave by default), so
        // an rshared volume stays a peer of the host's mount and mounts made
        // in it reach the host (Kubernetes' Bidirectional); the mount the
        // rootfs lives on is made private, so the rootfs bind and everything
        // mounted under it stay in this namespace.
        let propagation = linux.rootfsPropagation.flatMap(MountOptions.propagation(named:)) ?? UInt(MS_SLAVE | MS_REC)
        try sys("make / \(linux.rootfsPropagation ?? "rslave")", mount(nil, "/", nil, propagation, nil))
        if propagation & UInt(MS_SHARED) != 0, let parent = MountTable.mountPoint(containing: rootfs) {
            try sys("make \(parent) private", mount(nil, parent, nil, UInt(MS_PRIVATE), nil))
        }
        try sys("bind mount rootfs \(rootfs)", mount(rootfs, rootfs, nil, UInt(MS_BIND | MS_REC), nil))
        let root = try InRoot(rootfs)
        defer { root.close() }
        var readOnlyDev = false
        for (index, entry) in (spec.mounts ?? []).enumerated() {
            do {
                readOnlyDev = try mountEntry(entry, index: index, in: root) || readOnlyDev
            } catch {
                throw VesselError(error).wrapped("config.json: mounts[\(index)] (\(entry.destination))", field: "mounts[\(index)]")
            }
        }
        if hasDevTmpfs { try createDevices(in: root) }
        if readOnlyDev {
            // Only now: the default devices and /dev/pts had to go in first.
            let dev = try root.open("/dev")
            defer { close(dev) }
            try sysNegative("make /dev read-only", vessel_mount_setattr(dev, 0, MountAttributes.readOnly, 0))
        }
    }

    var hasDevTmpfs: Bool {
        (spec.mounts ?? []).contains { isDev($0) }
    }

    func isDev(_ entry: Mount) -> Bool {
        InRoot.normalized(entry.destination) == "dev" && entry.type == "tmpfs"
    }

    /// Mounts one entry; returns true when it is a read-only /dev whose
    /// read-only flag waits until the devices are in place.
    func mountEntry(_ entry: Mount, index: Int, in root: InRoot) throws -> Bool {
        var options = MountOptions(entry.options ?? [], type: entry.type)
        if entry.type == "cgroup" || entry.type == "cgroup2" {
            try mountCgroup(entry.destination, source: entry.source, options: options, in: root)
            return false
        }
        if entry.type == "proc" || entry.type == "sysfs" {
            try mountKernelFilesystem(entry, options: options, in: root)
            return false
        }
        if options.isBind {
            guard let source = entry.source else { throw VesselError.setup("a bind mount needs a source") }
            let opened = index < bindSourceFDs.count ? bindSourceFDs[index] : -1
            try bind(source, to: entry.destination, options: options, idmap: entry, in: root, opened: opened)
            return false
        }
        let deferReadOnly = isDev(entry) && options.flags & UInt(MS_RDONLY) != 0
        if deferReadOnly { options.flags &= ~UInt(MS_RDONLY) }
        // runc gives a tmpfs the mode of the directory it covers unless a
        // `mode=` option says otherwise (runc 1.1.5 overrode `mode=` too, a
        // bug later runc fixed); scripts written for runc see that mode.
        let givesMode = options.data.contains { $0.hasPrefix("mode=") }
        let coveredMode = entry.type == "tmpfs" && !givesMode ? try modeOfExisting(entry.destination, in: root) : nil
        let copyUp = entry.type == "tmpfs" && (entry.options ?? []).contains("tmpcopyup")
        // A read-only tmpfs gets the mode and its copy first, then its read-only flag.
        let readOnlyAfterMode = (coveredMode != nil || copyUp) && options.flags & UInt(MS_RDONLY) != 0
        if readOnlyAfterMode { options.flags &= ~UInt(MS_RDONLY) }
        let target = try root.mountPoint(entry.destination, directory: true)
        defer { close(target) }
        // What the tmpfs will cover, opened before it does.
        let covered = copyUp ? try sys("tmpcopyup: open \(entry.destination)", openat(target, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) : -1
        defer { if covered >= 0 { close(covered) } }
        let data = options.data.concatenated(separator: ",")
        try sys(
            "mount \(entry.type ?? "none") on \(entry.destination)",
            mount(
                entry.source ?? entry.type ?? "none", descriptorPath(target), entry.type, options.flags,
                data.isEmpty ? nil : data))
        if coveredMode != nil || copyUp {
            let mounted = try root.open(entry.destination, extraFlags: O_DIRECTORY)
            defer { close(mounted) }
            if copyUp { try TmpfsCopyUp.copy(from: covered, to: mounted, path: entry.destination) }
            if let coveredMode { try sys("chmod \(entry.destination)", chmod(descriptorPath(mounted), coveredMode)) }
            if readOnlyAfterMode {
                try sys(
                    "remount \(entry.destination) read-only",
                    mount(nil, descriptorPath(mounted), nil, options.flags | UInt(MS_RDONLY | MS_REMOUNT | MS_BIND), nil))
            }
        }
        try applyPropagation(options.propagation, at: entry.destination, in: root)
        return deferReadOnly
    }

    /// The permission bits (with setuid, setgid and sticky) of what is at
    /// `path` in the container before a mount covers it; nil if nothing is.
    func modeOfExisting(_ path: String, in root: InRoot) throws -> mode_t? {
        guard let fd = try root.openIfPresent(path) else { return nil }
        defer { close(fd) }
        var info = stat()
        try sys("stat \(path)", fstat(fd, &info))
        return info.st_mode & 0o7777
    }

    /// A bind mount made with the new mount API: the source is cloned,
    /// given its attributes while still detached, and attached onto the
    /// resolved target by descriptor.
    func bind(
        _ source: String, to destination: String, options: MountOptions, idmap entry: Mount? = nil,
        in root: InRoot, opened: Int32 = -1
    ) throws {
        // `opened`: InitContext.bindSourceFDs's, ours to close; not O_PATH
        // where it did not open then: the path again, for its error.
        let preOpened = opened >= 0 && fcntl(opened, F_GETFL) & O_PATH != 0
        if opened >= 0 && !preOpened { close(opened) }
        let sourceFD = preOpened ? opened : open(source, O_PATH | O_CLOEXEC)
        guard sourceFD >= 0 else { throw VesselError.system("bind source \(source)") }
        defer { close(sourceFD) }
        var info = stat()
        try sys("stat bind source \(source)", fstat(sourceFD, &info))
        let target = try root.mountPoint(destination, directory: (info.st_mode & S_IFMT) == S_IFDIR)
        defer { close(target) }
        var top = options.attributes, tree = options.recursiveAttributes
        var userNamespace: Int32 = -1
        defer { if userNamespace >= 0 { close(userNamespace) } }
        if let entry, let uids = entry.uidMappings, let gids = entry.gidMappings, !uids.isEmpty {
            // runtime-spec 1.2: the mount shows files as owned through these
            // maps; "ridmap" maps every submount too.
            userNamespace = try IDMappedUserNamespace.make(uidMappings: uids, gidMappings: gids)
            if (entry.options ?? []).contains("ridmap") { tree.set |= MountAttributes.idmap } else { top.set |= MountAttributes.idmap }
        }
        try attach(
            sourceFD, onto: target, recursive: options.flags & UInt(MS_REC) != 0,
            top: top, tree: tree, userNamespace: userNamespace, what: "bind \(source)")
        try applyPropagation(options.propagation, at: destination, in: root)
    }

    func attach(
        _ source: Int32, onto target: Int32, recursive: Bool, top: MountAttributes = MountAttributes(),
        tree: MountAttributes = MountAttributes(), userNamespace: Int32 = -1, what: String
    ) throws {
        var attributes = vessel_mount_attributes(
            top_set: top.set, top_clear: top.clear,
            tree_set: tree.set, tree_clear: tree.clear, userns_fd: userNamespace)
        try sysNegative(what, vessel_bind_fd(source, target, recursive ? 1 : 0, &attributes))
    }

    func applyPropagation(_ flags: [UInt], at destination: String, in root: InRoot) throws {
        guard !flags.isEmpty else { return }
        // The mount just made is on top now: resolving again reaches it.
        let mounted = try root.open(destination)
        defer { close(mounted) }
        for flag in flags {
            try sys("set propagation of \(destination)", mount(nil, descriptorPath(mounted), nil, flag, nil))
        }
    }

    /// proc and sysfs: the target must be a real directory, never a symlink
    /// the rootfs planted (CVE-2019-16884, CVE-2023-27561 class), and what
    /// ends up mounted there must really be procfs or sysfs.
    func mountKernelFilesystem(_ entry: Mount, options: MountOptions, in root: InRoot) throws {
        let type = entry.type ?? "proc"
        let target = try plainDirectory(entry.destination, in: root, for: type)
        defer { close(target) }
        let data = options.data.concatenated(separator: ",")
        if mount(type, descriptorPath(target), type, options.flags, data.isEmpty ? nil : data) != 0 {
            // sysfs cannot be mounted without a network namespace of our own
            // in a user namespace; bind the host's read-only instead, as runc.
            guard type == "sysfs" && (errno == EPERM || errno == EACCES) else {
                throw VesselError.system("mount \(type) on \(entry.destination)")
            }
            let hostSys = try sys("open /sys", open("/sys", O_PATH | O_DIRECTORY | O_CLOEXEC))
            defer { close(hostSys) }
            let readOnly = MountAttributes(
                set: MountAttributes.readOnly | MountAttributes.noSUID
                    | MountAttributes.noDev | MountAttributes.noExec)
            try attach(hostSys, onto: target, recursive: true, top: readOnly, tree: readOnly, what: "bind /sys")
        }
        let mounted = try root.open(
            entry.destination, extraFlags: O_DIRECTORY,
            resolve: UInt64(VESSEL_RESOLVE_NO_SYMLINKS))
        defer { close(mounted) }
        let magic = type == "proc" ? ProcFS.superMagic : Self.sysfsMagic
        guard vessel_fs_type(mounted) == magic else {
            throw VesselError.setup("\(entry.destination) is not \(type) after mounting it")
        }
        try applyPropagation(options.propagation, at: entry.destination, in: root)
    }

    /// The directory `destination`, created if missing; a symlink or a
    /// file there is refused, never followed.
    func plainDirectory(_ destination: String, in root: InRoot, for type: String) throws -> Int32 {
        let noLinks = UInt64(VESSEL_RESOLVE_NO_SYMLINKS) | UInt64(VESSEL_RESOLVE_NO_MAGICLINKS)
        let result = vessel_openat2(root.fd, InRoot.normalized(destination), O_PATH | O_DIRECTORY, UInt64(VESSEL_RESOLVE_IN_ROOT) | noLinks)
        if result >= 0 { return result }
        if -result == ENOENT { return try root.makeDirectories(destination) }
        if -result == ELOOP || -result == ENOTDIR {
            // runc's words end it: its tests and scripts match on them.
            throw VesselError.setup(
                "\(destination) in the rootfs is not a plain directory (a symlink or a file): filesystem \"\(type)\" must be mounted on ordinary directory")
        }
        throw VesselError.system("open \(destination) in the container", errno: Errno(rawValue: -result))
    }

    /// cgroup v2 only: with its own cgroup namespace the container mounts
    /// cgroup2 (rooted at its cgroup); without one it gets a bind of its own
    /// cgroup directory, never the host's whole tree.
    /// The source names the mount in /proc/self/mountinfo, as runc's does.
    func mountCgroup(_ destination: String, source: String?, options: MountOptions, in root: InRoot) throws {
        let target = try root.mountPoint(destination, directory: true)
        defer { close(target) }
        let flags = options.flags & ~UInt(MS_BIND | MS_REC)
        if newCgroupNamespace {
            if mount(source ?? "cgroup2", descriptorPath(target), "cgroup2", flags, nil) == 0 { return }
            if errno != EPERM && errno != EBUSY { throw VesselError.system("mount cgroup2") }
        }
        guard let cgroupDirectory else { return }
        let source = try sys("open \(cgroupDirectory)", open(cgroupDirectory, O_PATH | O_DIRECTORY | O_CLOEXEC))
        defer { close(source) }
        try attach(source, onto: target, recursive: true, top: options.attributes, what: "bind mount cgroup \(cgroupDirectory)")
    }

    static let defaultDevices: [Device] = [
        Device(type: "c", path: "/dev/null", major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0),
        Device(type: "c", path: "/dev/zero", major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0),
        Device(type: "c", path: "/dev/full", major: 1, minor: 7, fileMode: 0o666, uid: 0, gid: 0),
        Device(type: "c", path: "/dev/random", major: 1, minor: 8, fileMode: 0o666, uid: 0, gid: 0),
        Device(type: "c", path: "/dev/urandom", major: 1, minor: 9, fileMode: 0o666, uid: 0, gid: 0),
        Device(type: "c", path: "/dev/tty", major: 5, minor: 0, fileMode: 0o666, uid: 0, gid: 0),
    ]

    /// The runtime-spec's default devices, linux.devices, and /dev symlinks.
    func createDevices(in root: InRoot) throws {
        let old = umask(0)
        defer { umask(old) }
        // A default the config names again is the config's (as runc): made
        // twice, a bind in a user namespace could not be replaced.
        let configured = Set((linux.devices ?? []).map(\.path))
        for device in Self.defaultDevices.filter({ !configured.contains($0.path) }) + (linux.devices ?? []) {
            try createDevice(device, in: root)
        }
        let links =
            [
                ("/proc/self/fd", "fd"), ("/proc/self/fd/0", "stdin"), ("/proc/self/fd/1", "stdout"),
                ("/proc/self/fd/2", "stderr"), ("pts/ptmx", "ptmx"),
            ]
            + (FileIO.exists("/proc/kcore") ? [("/proc/kcore", "core")] : [])
        let dev = try root.makeDirectories("/dev")
        defer { close(dev) }
        for (target, link) in links {
            if symlinkat(target, dev, link) != 0 && errno != EEXIST { throw VesselError.system("symlink /dev/\(link)") }
        }
    }

    func createDevice(_ device: Device, in root: InRoot) throws {
        let (parent, name) = try root.parent(of: device.path)
        defer { close(parent) }
        unlinkat(parent, name, 0)
        let kind: mode_t
        switch device.type {
        case "b": kind = S_IFBLK
        case "p": kind = S_IFIFO
        default: kind = S_IFCHR
        }
        let mode = kind | mode_t(device.fileMode ?? 0o666) & 0o7777
        let number = vessel_makedev(UInt32(device.major ?? 0), UInt32(device.minor ?? 0))
        if mknodat(parent, name, mode, number) != 0 {
            // No CAP_MKNOD in a user namespace: bind the host's node instead.
            guard errno == EPERM, FileIO.exists(device.path) else { throw VesselError.system("mknod \(device.path)") }
            let host = try sys("open \(device.path)", open(device.path, O_PATH | O_CLOEXEC))
            defer { close(host) }
            let target = try root.mountPoint(device.path, directory: false)
            defer { close(target) }
            try attach(host, onto: target, recursive: false, what: "bind mount device \(device.path)")
            return
        }
        try sys("chown \(device.path)", fchownat(parent, name, device.uid ?? 0, device.gid ?? 0, AT_SYMLINK_NOFOLLOW))
    }

    /// Makes `rootfs` the root: pivot_root, or a move and chroot with --no-pivot.
    func pivot(noPivot: Bool) throws {
        if noPivot {
            try hideHostKernelFilesystems()
            try sys("chdir \(rootfs)", chdir(rootfs))
            try sys("move rootfs to /", mount(rootfs, "/", nil, UInt(MS_MOVE), nil))
            try sys("chroot", chroot("."))
            try sys("chdir /", chdir("/"))
            return
        }
        let oldRoot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC)
        guard oldRoot >= 0 else { throw VesselError.system("open /") }
        defer { close(oldRoot) }
        try sys("chdir \(rootfs)", chdir(rootfs))
        // Stack the old root under the new one and detach it: no put_old
        // directory is needed and nothing of the host stays reachable.
        try sys("pivot_root \(rootfs)", vessel_pivot_root(".", "."))
        try sys("fchdir old root", fchdir(oldRoot))
        try sys("make old root rslave", mount(nil, ".", nil, UInt(MS_SLAVE | MS_REC), nil))
        try sys("detach old root", umount2(".", Int32(MNT_DETACH)))
        try sys("chdir /", chdir("/"))
    }

    /// With --no-pivot the host's mounts stay in the namespace under the
    /// chroot. A fully visible procfs or sysfs among them would let a user
    /// namespace in the container mount a fresh procfs (the kernel allows
    /// it when one is fully visible): detach them, or cover them.
    func hideHostKernelFilesystems() throws {
        for mountPoint in MountTable.current().filter({ ["proc", "sysfs"].contains($0.type) }).map(\.mountPoint).reversed()
        where mountPoint != rootfs && !mountPoint.hasPrefix(rootfs + "/") {
            if mount(nil, mountPoint, nil, UInt(MS_SLAVE | MS_REC), nil) != 0 {
                if errno == ENOENT { continue }
                throw VesselError.system("make \(mountPoint) rslave")
            }
            if umount2(mountPoint, Int32(MNT_DETACH)) != 0 {
                guard errno == EINVAL || errno == EPERM else { throw VesselError.system("detach \(mountPoint)") }
                try sys("cover \(mountPoint)", mount("tmpfs", mountPoint, "tmpfs", 0, nil))
            }
        }
    }

    /// After pivot_root: read-only and masked paths, a read-only root, and
    /// the requested propagation of "/".
    func finish() throws {
        let root = try InRoot("/")
        defer { root.close() }
        // Read-only paths first, then masks, in runc's order (mountinfo shows it).
        for (index, path) in (linux.readonlyPaths ?? []).enumerated() {
            do {
                try makeReadOnly(path, in: root)
            } catch {
                throw VesselError(error).wrapped("config.json: linux.readonlyPaths[\(index)] (\(path))", field: "linux.readonlyPaths[\(index)]")
            }
        }
        let masked = linux.maskedPaths ?? []
        if !masked.isEmpty {
            let null = try verifiedNull(in: root)
            defer { close(null) }
            var shared: Int32 = -1
            defer { if shared >= 0 { close(shared) } }
            for (index, path) in masked.enumerated() {
                do {
                    try mask(path, with: null, sharing: &shared, in: root)
                } catch {
                    throw VesselError(error).wrapped("config.json: linux.maskedPaths[\(index)] (\(path))", field: "linux.maskedPaths[\(index)]")
                }
            }
        }
        if spec.root?.readonly == true {
            let flags = UInt(MS_BIND | MS_REMOUNT | MS_RDONLY) | lockedFlags(of: "/")
            try sys("remount / read-only", mount(nil, "/", nil, flags, nil))
        }
        if let name = linux.rootfsPropagation, let flag = MountOptions.propagation(named: name), flag & UInt(MS_SHARED) != 0 {
            try sys("make / \(name)", mount(nil, "/", nil, flag, nil))
        }
    }

    /// In a user namespace, flags inherited from the host are locked and a
    /// remount must repeat them.
    func lockedFlags(of path: String) -> UInt {
        guard inUserNamespace else { return 0 }
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return 0 }
        // ST_RDONLY 1, ST_NOSUID 2, ST_NODEV 4, ST_NOEXEC 8 (statvfs(3)).
        var flags: UInt = 0
        if info.f_flag & UInt(2) != 0 { flags |= UInt(MS_NOSUID) }
        if info.f_flag & UInt(4) != 0 { flags |= UInt(MS_NODEV) }
        if info.f_flag & UInt(8) != 0 { flags |= UInt(MS_NOEXEC) }
        if info.f_flag & UInt(1) != 0 { flags |= UInt(MS_RDONLY) }
        return flags
    }

    /// The container's /dev/null, checked to be the null device (char 1:3)
    /// and not a symlink: masking binds it over files, so a /dev/null that
    /// pointed elsewhere would turn a mask into a writable bind of, say,
    /// /proc/sys/kernel/core_pattern (CVE-2025-31133 class).
    func verifiedNull(in root: InRoot) throws -> Int32 {
        let fd = try root.open("/dev/null", extraFlags: O_NOFOLLOW)
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFCHR, info.st_rdev == vessel_makedev(1, 3) else {
            close(fd)
            throw VesselError.setup("config.json: linux.maskedPaths: /dev/null in the container is not the null device (char 1:3): refusing to mask with it")
        }
        return fd
    }

    /// Hides `path`: an empty read-only tmpfs over a directory, the null
    /// device over anything else. A missing path needs no mask; a symlink
    /// is refused rather than followed. `shared`: the first masked
    /// directory's tmpfs, which later ones bind (one tmpfs for them all, as
    /// later runc: fewer superblocks), or -1 before it is made.
    func mask(_ path: String, with null: Int32, sharing shared: inout Int32, in root: InRoot) throws {
        guard let target = try root.openIfPresent(path, extraFlags: O_NOFOLLOW) else { return }
        defer { close(target) }
        var info = stat()
        try sys("stat \(path)", fstat(target, &info))
        switch info.st_mode & S_IFMT {
        case S_IFLNK:
            throw VesselError.setup("\(path) is a symlink: refusing to mask through it")
        case S_IFDIR where shared >= 0:
            try attach(shared, onto: target, recursive: false, top: MountAttributes(set: MountAttributes.readOnly), what: "mask \(path)")
        case S_IFDIR:
            try sysNegative("mask \(path)", vessel_mount_tmpfs_fd(target, 1))
            shared = try root.open(path, extraFlags: O_NOFOLLOW)
        default:
            try attach(null, onto: target, recursive: false, what: "mask \(path)")
        }
    }

    func makeReadOnly(_ path: String, in root: InRoot) throws {
        guard let target = try root.openIfPresent(path) else { return }
        defer { close(target) }
        let readOnly = MountAttributes(
            set: MountAttributes.readOnly | MountAttributes.noSUID
                | MountAttributes.noDev | MountAttributes.noExec)
        try attach(target, onto: target, recursive: true, top: readOnly, tree: readOnly, what: "make \(path) read-only")
    }
}
