// The config.json that `vessel spec` writes: runc's defaults, so a bundle
// made by either tool runs on both.
public enum DefaultSpec {
    static let capabilities = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]

    /// `cgroupNamespace`: as runc, only where /sys/fs/cgroup is cgroup v2.
    public static func make(rootless: Bool = false, uid: UInt32 = 0, gid: UInt32 = 0, cgroupNamespace: Bool = true) -> Spec {
        var process = Process(
            terminal: true, args: ["sh"],
            env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
            cwd: "/",
            capabilities: Capabilities(
                bounding: capabilities, effective: capabilities,
                permitted: capabilities, ambient: capabilities),
            rlimits: [Rlimit(type: "RLIMIT_NOFILE", hard: 1024, soft: 1024)],
            noNewPrivileges: true)
        process.capabilities?.inheritable = nil
        var linux = LinuxConfig()
        linux.namespaces =
            [.init(type: .pid), .init(type: .network), .init(type: .ipc), .init(type: .uts), .init(type: .mount)]
            + (cgroupNamespace ? [.init(type: .cgroup)] : [])
        linux.maskedPaths = [
            "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
            "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi",
        ]
        linux.readonlyPaths = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
        var mounts = [
            Mount(destination: "/proc", type: "proc", source: "proc"),
            Mount(destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"]),
            Mount(
                destination: "/dev/pts", type: "devpts", source: "devpts",
                options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]),
            Mount(destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
            Mount(destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"]),
            Mount(destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"]),
            Mount(destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: ["nosuid", "noexec", "nodev", "relatime", "ro"]),
        ]
        if rootless {
            // As runc's rootless spec: no network namespace; /sys bound from
            // the host, and /sys/fs/cgroup kept.
            linux.namespaces = linux.namespaces?.filter { $0.type != .network } ?? []
            linux.namespaces?.append(.init(type: .user))
            linux.uidMappings = [IDMapping(containerID: 0, hostID: uid, size: 1)]
            linux.gidMappings = [IDMapping(containerID: 0, hostID: gid, size: 1)]
            mounts[1 + 1].options = ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]
            mounts[5] = Mount(destination: "/sys", type: "none", source: "/sys", options: ["rbind", "nosuid", "noexec", "nodev", "ro"])
        } else {
            var resources = Resources()
            resources.devices = [Resources.DeviceRule(allow: false, type: nil, major: nil, minor: nil, access: "rwm")]
            linux.resources = resources
        }
        return Spec(
            ociVersion: SpecVersion.current, root: Root(path: "rootfs", readonly: true), mounts: mounts,
            process: process, hostname: "vessel", linux: linux)
    }
}
