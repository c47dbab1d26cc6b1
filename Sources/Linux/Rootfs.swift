import CVessel
import Glibc
import OCI

// Builds the container's root filesystem inside its mount namespace:
// the rootfs bind, config mounts, /dev, then pivot_root and the masked and
// read-only paths. Runs in the container's init only.
struct Rootfs {
    let spec: Spec
    let rootfs: String
    let cgroupDirectory: String?
    let newCgroupNamespace: Bool
    let inUserNamespace: Bool

    var linux: LinuxConfig { spec.linux ?? LinuxConfig() }

    /// Everything before pivot_root.
    func prepare() throws {
        let propagation = linux.rootfsPropagation.flatMap(MountOptions.propagation(named:)) ?? UInt(MS_SLAVE | MS_REC)
        // Keep our mounts from reaching the host; shared is applied after pivot_root.
        let initial = propagation & UInt(MS_SHARED) != 0 ? UInt(MS_SLAVE | MS_REC) : propagation
        try sys("make / \(linux.rootfsPropagation ?? "rslave")", mount(nil, "/", nil, initial, nil))
        try sys("bind mount rootfs \(rootfs)", mount(rootfs, rootfs, nil, UInt(MS_BIND | MS_REC), nil))
        for (index, entry) in (spec.mounts ?? []).enumerated() {
            do {
                try mountEntry(entry)
            } catch {
                throw SetupError("config.json: mounts[\(index)] (\(entry.destination)): \(error)")
            }
        }
        if hasDevTmpfs { try createDevices() }
    }

    var hasDevTmpfs: Bool {
        (spec.mounts ?? []).contains { $0.destination == "/dev" && $0.type == "tmpfs" }
    }

    func mountEntry(_ entry: Mount) throws {
        let options = MountOptions(entry.options ?? [], type: entry.type)
        let target = SecurePath.join(root: rootfs, entry.destination)
        if entry.type == "cgroup" || entry.type == "cgroup2" {
            try mountCgroup(target: target, options: options)
            return
        }
        let source = entry.source ?? entry.type ?? "none"
        if options.isBind {
            guard entry.source != nil else { throw SetupError("a bind mount needs a source") }
            guard FileIO.exists(source) else { throw SetupError("bind source \(source) does not exist") }
            try makeMountPoint(target, likeDirectory: FileIO.isDirectory(source))
        } else {
            try makeMountPoint(target, likeDirectory: true)
        }
        let data = options.data.joined(separator: ",")
        let firstFlags = options.isBind ? options.flags & UInt(MS_BIND | MS_REC) : options.flags
        let rc = mount(source, target, options.isBind ? nil : entry.type, firstFlags, data.isEmpty ? nil : data)
        if rc != 0 {
            // sysfs cannot be mounted without a network namespace of our own
            // in a user namespace; bind the host's read-only instead, as runc.
            if entry.type == "sysfs" && (errno == EPERM || errno == EACCES) {
                try sys("mount sysfs (bind)", mount("/sys", target, nil, UInt(MS_BIND | MS_REC), nil))
                _ = mount(nil, target, nil, UInt(MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC), nil)
                return
            }
            throw SystemError("mount \(entry.type ?? "bind") on \(entry.destination)")
        }
        if options.isBind, let flags = options.remountFlags {
            try sys("remount \(entry.destination)", mount(nil, target, nil, flags | lockedFlags(of: target), nil))
        }
        for flag in options.propagation {
            try sys("set propagation of \(entry.destination)", mount(nil, target, nil, flag, nil))
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

    /// cgroup v2 only: with its own cgroup namespace the container mounts
    /// cgroup2 (rooted at its cgroup); without one it gets a bind of its own
    /// cgroup directory, never the host's whole tree.
    func mountCgroup(target: String, options: MountOptions) throws {
        try makeMountPoint(target, likeDirectory: true)
        let flags = options.flags & ~UInt(MS_BIND | MS_REC)
        if newCgroupNamespace {
            if mount("cgroup2", target, "cgroup2", flags, nil) == 0 { return }
            if errno != EPERM && errno != EBUSY { throw SystemError("mount cgroup2") }
        }
        guard let cgroupDirectory else { return }
        try sys("bind mount cgroup \(cgroupDirectory)", mount(cgroupDirectory, target, nil, UInt(MS_BIND | MS_REC), nil))
        try sys("remount cgroup", mount(nil, target, nil, flags | UInt(MS_BIND | MS_REMOUNT) | lockedFlags(of: target), nil))
    }

    func makeMountPoint(_ path: String, likeDirectory: Bool) throws {
        if FileIO.exists(path) { return }
        if likeDirectory {
            try FileIO.makeDirectories(path)
        } else {
            let parent = String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)])
            try FileIO.makeDirectories(parent)
            let fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw SystemError("create mount point \(path)") }
            close(fd)
        }
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
    func createDevices() throws {
        let old = umask(0)
        defer { umask(old) }
        for device in Self.defaultDevices + (linux.devices ?? []) {
            try createDevice(device)
        }
        let links = [("/proc/self/fd", "/dev/fd"), ("/proc/self/fd/0", "/dev/stdin"),
                     ("/proc/self/fd/1", "/dev/stdout"), ("/proc/self/fd/2", "/dev/stderr"),
                     ("pts/ptmx", "/dev/ptmx")] + (FileIO.exists("/proc/kcore") ? [("/proc/kcore", "/dev/core")] : [])
        for (target, link) in links {
            let path = rootfs + link
            if symlink(target, path) != 0 && errno != EEXIST { throw SystemError("symlink \(link)") }
        }
    }

    func createDevice(_ device: Device) throws {
        let path = SecurePath.join(root: rootfs, device.path)
        try FileIO.makeDirectories(String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)]))
        unlink(path)
        let kind: mode_t
        switch device.type {
        case "b": kind = S_IFBLK
        case "p": kind = S_IFIFO
        default: kind = S_IFCHR
        }
        let mode = kind | mode_t(device.fileMode ?? 0o666) & 0o7777
        let number = vessel_makedev(UInt32(device.major ?? 0), UInt32(device.minor ?? 0))
        if mknod(path, mode, number) != 0 {
            // No CAP_MKNOD in a user namespace: bind the host's node instead.
            guard errno == EPERM, FileIO.exists(device.path) else { throw SystemError("mknod \(device.path)") }
            let fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0o644)
            if fd >= 0 { close(fd) }
            try sys("bind mount device \(device.path)", mount(device.path, path, nil, UInt(MS_BIND), nil))
            return
        }
        try sys("chown \(device.path)", chown(path, device.uid ?? 0, device.gid ?? 0))
    }

    /// Makes `rootfs` the root: pivot_root, or a move and chroot with --no-pivot.
    func pivot(noPivot: Bool) throws {
        if noPivot {
            try sys("chdir \(rootfs)", chdir(rootfs))
            try sys("move rootfs to /", mount(rootfs, "/", nil, UInt(MS_MOVE), nil))
            try sys("chroot", chroot("."))
            try sys("chdir /", chdir("/"))
            return
        }
        let oldRoot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC)
        guard oldRoot >= 0 else { throw SystemError("open /") }
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

    /// After pivot_root: masked and read-only paths, a read-only root, and
    /// the requested propagation of "/".
    func finish() throws {
        for path in linux.maskedPaths ?? [] { try mask(path) }
        for path in linux.readonlyPaths ?? [] { try makeReadOnly(path) }
        if spec.root?.readonly == true {
            let flags = UInt(MS_BIND | MS_REMOUNT | MS_RDONLY) | lockedFlags(of: "/")
            try sys("remount / read-only", mount(nil, "/", nil, flags, nil))
        }
        if let name = linux.rootfsPropagation, let flag = MountOptions.propagation(named: name), flag & UInt(MS_SHARED) != 0 {
            try sys("make / \(name)", mount(nil, "/", nil, flag, nil))
        }
    }

    func mask(_ path: String) throws {
        var st = stat()
        guard stat(path, &st) == 0 else { return }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            try sys("mask \(path)", mount("tmpfs", path, "tmpfs", UInt(MS_RDONLY), nil))
        } else {
            try sys("mask \(path)", mount("/dev/null", path, nil, UInt(MS_BIND), nil))
        }
    }

    func makeReadOnly(_ path: String) throws {
        guard FileIO.exists(path) else { return }
        try sys("bind \(path)", mount(path, path, nil, UInt(MS_BIND | MS_REC), nil))
        let flags = UInt(MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC) | lockedFlags(of: path)
        try sys("remount \(path) read-only", mount(nil, path, nil, flags, nil))
    }
}
