import Errors
// Checks a decoded Spec for what the type system cannot: required values,
// absolute paths, known names, consistent namespaces. Pure, so that every
// rule is unit-tested. The first problem found is reported, naming its field.
public enum SpecValidator {
    public static let rlimitNames: [String: Int32] = [
        "RLIMIT_CPU": 0, "RLIMIT_FSIZE": 1, "RLIMIT_DATA": 2, "RLIMIT_STACK": 3, "RLIMIT_CORE": 4,
        "RLIMIT_RSS": 5, "RLIMIT_NPROC": 6, "RLIMIT_NOFILE": 7, "RLIMIT_MEMLOCK": 8, "RLIMIT_AS": 9,
        "RLIMIT_LOCKS": 10, "RLIMIT_SIGPENDING": 11, "RLIMIT_MSGQUEUE": 12, "RLIMIT_NICE": 13,
        "RLIMIT_RTPRIO": 14, "RLIMIT_RTTIME": 15,
    ]
    public static let rootfsPropagations: Set<String> = [
        "private", "shared", "slave", "unbindable", "rprivate", "rshared", "rslave", "runbindable",
    ]
    public static let seccompActions: Set<String> = [
        "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
        "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY",
    ]
    public static let seccompOperators: Set<String> = [
        "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT",
        "SCMP_CMP_MASKED_EQ",
    ]

    public static func validate(_ spec: Spec) throws(VesselError) {
        guard let root = spec.root else { throw .missingField("root") }
        guard !root.path.isEmpty else { throw .invalidValue(field: "root.path", reason: "must not be empty") }
        guard let process = spec.process else { throw .missingField("process") }
        try validate(process)
        try validateMounts(spec.mounts ?? [])
        try validateHooks(spec.hooks)
        try validateLinux(spec.linux ?? LinuxConfig(), spec: spec)
    }

    static func validate(_ process: Process) throws(VesselError) {
        try validateScheduling(process)
        guard let args = process.args, let first = args.first, !first.isEmpty else {
            throw .invalidValue(field: "process.args", reason: "must name the program to run")
        }
        guard process.cwd.hasPrefix("/") else {
            throw .invalidValue(field: "process.cwd", reason: "\(process.cwd.debugDescription) is not an absolute path")
        }
        for (index, entry) in (process.env ?? []).enumerated() {
            if let problem = EnvironmentEntry.problem(entry) { throw .invalidValue(field: "process.env[\(index)]", reason: problem) }
        }
        var seen = Set<String>()
        for (index, limit) in (process.rlimits ?? []).enumerated() {
            let field = "process.rlimits[\(index)]"
            guard rlimitNames[limit.type] != nil else {
                throw .invalidValue(field: field + ".type", reason: "unknown rlimit \(limit.type)")
            }
            guard seen.insert(limit.type).inserted else {
                throw .invalidValue(field: field + ".type", reason: "\(limit.type) is set twice")
            }
            guard limit.soft <= limit.hard else {
                throw .invalidValue(field: field, reason: "\(limit.type) soft limit \(limit.soft) is above its hard limit \(limit.hard)")
            }
        }
        if let score = process.oomScoreAdj, !(-1000...1000).contains(score) {
            throw .invalidValue(field: "process.oomScoreAdj", reason: "\(score) is outside -1000...1000")
        }
    }

    /// Files under /proc that a mount may cover (lxcfs-style views), as
    /// runc allows; anything else there could hide or redirect the procfs
    /// files the runtime itself writes to or masks.
    public static let procMountAllowList: Set<String> = [
        "/proc/cpuinfo", "/proc/diskstats", "/proc/meminfo", "/proc/stat", "/proc/swaps",
        "/proc/uptime", "/proc/loadavg", "/proc/slabinfo", "/proc/net/dev", "/proc/sys/kernel/ns_last_pid",
    ]

    static let schedulerPolicies: Set<String> = ["SCHED_OTHER", "SCHED_FIFO", "SCHED_RR", "SCHED_BATCH", "SCHED_ISO", "SCHED_IDLE", "SCHED_DEADLINE"]
    static let schedulerFlags: Set<String> = [
        "SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_RECLAIM", "SCHED_FLAG_DL_OVERRUN", "SCHED_FLAG_KEEP_POLICY",
        "SCHED_FLAG_KEEP_PARAMS", "SCHED_FLAG_UTIL_CLAMP_MIN", "SCHED_FLAG_UTIL_CLAMP_MAX",
    ]

    static func validateScheduling(_ process: Process) throws(VesselError) {
        if let scheduler = process.scheduler {
            guard schedulerPolicies.contains(scheduler.policy) else {
                throw .invalidValue(field: "process.scheduler.policy", reason: "unknown policy \(scheduler.policy.debugDescription)")
            }
            for flag in scheduler.flags ?? [] where !schedulerFlags.contains(flag) {
                throw .invalidValue(field: "process.scheduler.flags", reason: "unknown flag \(flag.debugDescription)")
            }
            if let nice = scheduler.nice, !(-20...19).contains(nice) {
                throw .invalidValue(field: "process.scheduler.nice", reason: "\(nice) is outside -20...19")
            }
        }
        if let io = process.ioPriority {
            guard ["IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE"].contains(io.class) else {
                throw .invalidValue(field: "process.ioPriority.class", reason: "unknown class \(io.class.debugDescription)")
            }
            if let priority = io.priority, !(0...7).contains(priority) {
                throw .invalidValue(field: "process.ioPriority.priority", reason: "\(priority) is outside 0...7")
            }
        }
        for (name, list) in [("initial", process.execCPUAffinity?.initial), ("final", process.execCPUAffinity?.final)] {
            guard let list else { continue }
            let valid = !list.isEmpty && list.allSatisfy { $0.isNumber || $0 == "," || $0 == "-" }
            if !valid { throw .invalidValue(field: "process.execCPUAffinity.\(name)", reason: "\(list.debugDescription) is not a CPU list") }
        }
    }

    static func validateMounts(_ mounts: [Mount]) throws(VesselError) {
        for (index, mount) in mounts.enumerated() {
            let hasUIDs = !(mount.uidMappings ?? []).isEmpty, hasGIDs = !(mount.gidMappings ?? []).isEmpty
            if hasUIDs != hasGIDs {
                throw .invalidValue(field: "mounts[\(index)].uidMappings", reason: "an idmapped mount needs both uidMappings and gidMappings")
            }
            let field = "mounts[\(index)].destination"
            guard mount.destination.hasPrefix("/") else {
                throw .invalidValue(field: field, reason: "\(mount.destination.debugDescription) is not an absolute path")
            }
            let destination = normalized(mount.destination)
            if destination.hasPrefix("/proc/") && mount.type != "proc" && !procMountAllowList.contains(destination) {
                throw .invalidValue(field: field, reason: "mounting over \(destination) is refused: it would cover procfs files the runtime relies on")
            }
        }
    }

    /// A path with ".", empty components and ".." resolved lexically.
    static func normalized(_ path: String) -> String { LexicalPath.absolute(path) }

    static func validateHooks(_ hooks: Hooks?) throws(VesselError) {
        guard let hooks else { return }
        let groups: [(String, [Hook]?)] = [
            ("prestart", hooks.prestart), ("createRuntime", hooks.createRuntime),
            ("createContainer", hooks.createContainer), ("startContainer", hooks.startContainer),
            ("poststart", hooks.poststart), ("poststop", hooks.poststop),
        ]
        for (name, list) in groups {
            for (index, hook) in (list ?? []).enumerated() {
                let field = "hooks.\(name)[\(index)]"
                guard hook.path.hasPrefix("/") else {
                    throw .invalidValue(field: field + ".path", reason: "\(hook.path.debugDescription) is not an absolute path")
                }
                if let timeout = hook.timeout, timeout <= 0 {
                    throw .invalidValue(field: field + ".timeout", reason: "must be greater than zero")
                }
            }
        }
    }

    static func validateLinux(_ linux: LinuxConfig, spec: Spec) throws(VesselError) {
        var types = Set<NamespaceType>()
        for (index, namespace) in (linux.namespaces ?? []).enumerated() {
            guard types.insert(namespace.type).inserted else {
                throw .invalidValue(field: "linux.namespaces[\(index)]", reason: "namespace \(namespace.type.rawValue) is listed twice")
            }
            if let path = namespace.path, !path.hasPrefix("/") {
                throw .invalidValue(field: "linux.namespaces[\(index)].path", reason: "\(path.debugDescription) is not an absolute path")
            }
        }
        let newUserNamespace = (linux.namespaces ?? []).contains { $0.type == .user && $0.path == nil }
        let hasMappings = !(linux.uidMappings ?? []).isEmpty || !(linux.gidMappings ?? []).isEmpty
        if hasMappings && !newUserNamespace {
            throw .invalidValue(field: "linux.uidMappings", reason: "id mappings need a new user namespace in linux.namespaces")
        }
        if newUserNamespace && ((linux.uidMappings ?? []).isEmpty || (linux.gidMappings ?? []).isEmpty) {
            throw .invalidValue(field: "linux.uidMappings", reason: "a new user namespace needs uidMappings and gidMappings")
        }
        // A uts namespace joined by path is the container's too (runc allows
        // a hostname there); that it is not the host's own is checked at create.
        let ownUTS = types.contains(.uts)
        if spec.hostname != nil && !(spec.hostname ?? "").isEmpty && !ownUTS {
            throw .invalidValue(field: "hostname", reason: "setting a hostname needs a new uts namespace")
        }
        if spec.domainname != nil && !(spec.domainname ?? "").isEmpty && !ownUTS {
            throw .invalidValue(field: "domainname", reason: "setting a domainname needs a new uts namespace")
        }
        if linux.timeOffsets != nil && !types.contains(.time) {
            throw .invalidValue(field: "linux.timeOffsets", reason: "time offsets need a time namespace")
        }
        if let propagation = linux.rootfsPropagation, !rootfsPropagations.contains(propagation) {
            throw .invalidValue(field: "linux.rootfsPropagation", reason: "unknown propagation \(propagation.debugDescription)")
        }
        for (index, device) in (linux.devices ?? []).enumerated() {
            let field = "linux.devices[\(index)]"
            guard ["c", "b", "u", "p"].contains(device.type) else {
                throw .invalidValue(field: field + ".type", reason: "unknown device type \(device.type.debugDescription)")
            }
            // runc allows device nodes anywhere in the rootfs; the path must be absolute.
            guard device.path.hasPrefix("/"), !LexicalPath.components(device.path).isEmpty else {
                throw .invalidValue(field: field + ".path", reason: "\(device.path.debugDescription) is not an absolute path to a file")
            }
            if device.type != "p" && (device.major == nil || device.minor == nil) {
                throw .invalidValue(field: field, reason: "major and minor are required for a \(device.type) device")
            }
        }
        try validate(deviceRules: linux.resources?.devices ?? [])
        if let seccomp = linux.seccomp { try validate(seccomp) }
        // As runc: masking needs a mount namespace of the container's own;
        // without one the masks could not be made and would be dropped.
        if !types.contains(.mount) {
            if !(linux.maskedPaths ?? []).isEmpty {
                throw .invalidValue(field: "linux.maskedPaths", reason: "masking paths needs a mount namespace in linux.namespaces")
            }
            if !(linux.readonlyPaths ?? []).isEmpty {
                throw .invalidValue(field: "linux.readonlyPaths", reason: "read-only paths need a mount namespace in linux.namespaces")
            }
            if !(spec.mounts ?? []).isEmpty {
                throw .invalidValue(field: "mounts", reason: "mounts need a mount namespace in linux.namespaces")
            }
        }
        for key in (linux.sysctl ?? [:]).keys.sorted() {
            try validateSysctl(key, namespaces: types)
        }
        try validateNetDevices(linux.netDevices ?? [:], namespaces: types)
        if let personality = linux.personality {
            guard ["LINUX", "LINUX32"].contains(personality.domain) else {
                throw .invalidValue(field: "linux.personality.domain", reason: "unknown domain \(personality.domain.debugDescription) (LINUX or LINUX32)")
            }
            if let flags = personality.flags, !flags.isEmpty {
                throw .invalidValue(field: "linux.personality.flags", reason: "no personality flags are defined by the runtime-spec")
            }
        }
        if let offsets = linux.timeOffsets {
            for clock in offsets.keys.sorted() where !["monotonic", "boottime"].contains(clock) {
                throw .invalidValue(field: "linux.timeOffsets.\(clock)", reason: "only monotonic and boottime have offsets")
            }
        }
    }

    /// Interface names: at most 15 bytes, no '/', ':' or whitespace; the
    /// container needs a network namespace to receive them.
    static func validateNetDevices(_ devices: [String: NetDevice], namespaces: Set<NamespaceType>) throws(VesselError) {
        guard !devices.isEmpty else { return }
        guard namespaces.contains(.network) else {
            throw .invalidValue(field: "linux.netDevices", reason: "moving interfaces needs a network namespace in linux.namespaces")
        }
        func valid(_ name: String) -> Bool {
            !name.isEmpty && name.utf8.count <= 15 && name != "." && name != ".."
                && !name.contains(where: { $0 == "/" || $0 == ":" || $0.isWhitespace })
        }
        for name in devices.keys.sorted() {
            guard valid(name) else { throw .invalidValue(field: "linux.netDevices", reason: "\(name.debugDescription) is not an interface name") }
            if let new = devices[name]?.name, !valid(new) {
                throw .invalidValue(field: "linux.netDevices.\(name).name", reason: "\(new.debugDescription) is not an interface name")
            }
        }
    }

    /// The namespace a sysctl key belongs to, nil for a key that is the
    /// host's in every container (kernel.core_pattern, vm.*, fs.* but mqueue).
    public static func sysctlNamespace(_ key: String) -> NamespaceType? {
        guard let key = sysctlComponents(key)?.joined(separator: ".") else { return nil }
        let ipcKeys: Set<String> = [
            "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
            "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
        ]
        if ipcKeys.contains(key) || key.hasPrefix("fs.mqueue.") { return .ipc }
        if key.hasPrefix("net.") { return .network }
        if key == "kernel.hostname" || key == "kernel.domainname" { return .uts }
        return nil
    }

    /// The key's names under /proc/sys, nil for a key that is not one. As
    /// sysctl(8) and runc: when the first separator is a '/', slashes
    /// separate and dots are part of a name (`net/ipv4/conf/eth0.100/forwarding`).
    public static func sysctlComponents(_ key: String) -> [String]? {
        let slashed = key.first { $0 == "." || $0 == "/" } == "/"
        let parts = key.split(separator: slashed ? "/" : ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count > 1, parts.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." && !$0.contains("/") && !$0.contains("\0") })
        else { return nil }
        return parts
    }

    /// As runc: a sysctl is allowed only where the container has the
    /// namespace it lives in; anything else would be written to the host.
    /// Whether a namespace joined by path is the host's own is checked at
    /// create time, where the files can be opened.
    static func validateSysctl(_ key: String, namespaces: Set<NamespaceType>) throws(VesselError) {
        let field = "linux.sysctl.\(key)"
        guard sysctlComponents(key) != nil else {
            throw .invalidValue(field: field, reason: "\(key.debugDescription) is not a sysctl name (net.ipv4.ip_forward or net/ipv4/ip_forward)")
        }
        guard let namespace = sysctlNamespace(key) else {
            throw .invalidValue(field: field, reason: "\(key) is not in a namespace the container can own: it would change the host")
        }
        guard namespaces.contains(namespace) else {
            throw .invalidValue(field: field, reason: "\(key) needs a \(namespace.rawValue) namespace in linux.namespaces (without one it is the host's)")
        }
    }

    /// The largest device number the cgroup device filter sees (a u32).
    public static let maxDeviceNumber = Int64(UInt32.max)

    /// linux.resources.devices: only what the cgroup device filter can
    /// express; a rule it would misread must not widen what is allowed.
    public static func validate(deviceRules rules: [Resources.DeviceRule]) throws(VesselError) {
        for (index, rule) in rules.enumerated() {
            let field = "linux.resources.devices[\(index)]"
            if let type = rule.type, !["a", "b", "c"].contains(type) {
                throw .invalidValue(field: field + ".type", reason: "unknown device type \(type.debugDescription) (a, b or c)")
            }
            if let access = rule.access, let bad = access.first(where: { !"rwm".contains($0) }) {
                throw .invalidValue(
                    field: field + ".access",
                    reason: "\(access.debugDescription) has \(String(bad).debugDescription); only r, w and m are allowed")
            }
            for (name, number) in [("major", rule.major), ("minor", rule.minor)] {
                if let number, number != -1, !(0...maxDeviceNumber).contains(number) {
                    throw .invalidValue(
                        field: field + "." + name,
                        reason: "\(number) is not a device number (0...\(maxDeviceNumber), or -1 for any)")
                }
            }
        }
    }

    static func validate(_ seccomp: Seccomp) throws(VesselError) {
        guard seccompActions.contains(seccomp.defaultAction) else {
            throw .invalidValue(field: "linux.seccomp.defaultAction", reason: "unknown action \(seccomp.defaultAction)")
        }
        // As runc: the agent must be named, and it cannot be every syscall's
        // (the runtime itself could not reach it).
        if seccomp.defaultAction == "SCMP_ACT_NOTIFY" {
            throw .invalidValue(field: "linux.seccomp.defaultAction", reason: "SCMP_ACT_NOTIFY cannot be the default action")
        }
        if seccomp.notifies && (seccomp.listenerPath ?? "").isEmpty {
            throw .invalidValue(field: "linux.seccomp.listenerPath", reason: "SCMP_ACT_NOTIFY needs a listenerPath for the agent")
        }
        if let path = seccomp.listenerPath, !path.isEmpty, !path.hasPrefix("/") {
            throw .invalidValue(field: "linux.seccomp.listenerPath", reason: "\(path.debugDescription) is not an absolute path")
        }
        for (index, rule) in (seccomp.syscalls ?? []).enumerated() {
            let field = "linux.seccomp.syscalls[\(index)]"
            guard seccompActions.contains(rule.action) else {
                throw .invalidValue(field: field + ".action", reason: "unknown action \(rule.action)")
            }
            guard !rule.names.isEmpty else { throw .invalidValue(field: field + ".names", reason: "must not be empty") }
            for (argIndex, arg) in (rule.args ?? []).enumerated() {
                guard seccompOperators.contains(arg.op) else {
                    throw .invalidValue(field: field + ".args[\(argIndex)].op", reason: "unknown operator \(arg.op)")
                }
                guard arg.index < 6 else {
                    throw .invalidValue(field: field + ".args[\(argIndex)].index", reason: "\(arg.index) is not a syscall argument (0-5)")
                }
            }
        }
    }
}
