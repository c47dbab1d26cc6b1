// The runtime-spec's config.json, as Codable types. Field names follow the
// spec exactly; every field the spec marks optional is optional here.

public struct Spec: Codable, Sendable, Equatable {
    public var ociVersion: String
    public var root: Root?
    public var mounts: [Mount]?
    public var process: Process?
    public var hostname: String?
    public var domainname: String?
    public var hooks: Hooks?
    public var annotations: [String: String]?
    public var linux: LinuxConfig?

    public init(
        ociVersion: String, root: Root? = nil, mounts: [Mount]? = nil, process: Process? = nil,
        hostname: String? = nil, domainname: String? = nil, hooks: Hooks? = nil,
        annotations: [String: String]? = nil, linux: LinuxConfig? = nil
    ) {
        self.ociVersion = ociVersion
        self.root = root
        self.mounts = mounts
        self.process = process
        self.hostname = hostname
        self.domainname = domainname
        self.hooks = hooks
        self.annotations = annotations
        self.linux = linux
    }

    /// As synthesized, except that a config without `ociVersion` reads as
    /// "": runc runs it, so engines and scripts may rely on that.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        ociVersion = try container.decodeIfPresent(String.self, forKey: .ociVersion) ?? ""
        root = try container.decodeIfPresent(Root.self, forKey: .root)
        mounts = try container.decodeIfPresent([Mount].self, forKey: .mounts)
        process = try container.decodeIfPresent(Process.self, forKey: .process)
        hostname = try container.decodeIfPresent(String.self, forKey: .hostname)
        domainname = try container.decodeIfPresent(String.self, forKey: .domainname)
        hooks = try container.decodeIfPresent(Hooks.self, forKey: .hooks)
        annotations = try container.decodeIfPresent([String: String].self, forKey: .annotations)
        linux = try container.decodeIfPresent(LinuxConfig.self, forKey: .linux)
    }
}

public struct Root: Codable, Sendable, Equatable {
    public var path: String
    public var readonly: Bool?
    public init(path: String, readonly: Bool? = nil) {
        self.path = path
        self.readonly = readonly
    }
}

public struct Mount: Codable, Sendable, Equatable {
    public var destination: String
    public var type: String?
    public var source: String?
    public var options: [String]?
    /// runtime-spec 1.2: an idmapped mount (mount_setattr MOUNT_ATTR_IDMAP).
    public var uidMappings: [IDMapping]?
    public var gidMappings: [IDMapping]?
    public init(destination: String, type: String? = nil, source: String? = nil, options: [String]? = nil) {
        self.destination = destination
        self.type = type
        self.source = source
        self.options = options
    }
}

public struct Process: Codable, Sendable, Equatable {
    public var terminal: Bool?
    public var consoleSize: ConsoleSize?
    public var user: User
    public var args: [String]?
    public var env: [String]?
    public var cwd: String
    public var capabilities: Capabilities?
    public var rlimits: [Rlimit]?
    public var noNewPrivileges: Bool?
    public var apparmorProfile: String?
    public var oomScoreAdj: Int?
    public var selinuxLabel: String?
    /// runtime-spec 1.2: sched_setattr, ioprio_set and CPU affinity.
    public var scheduler: Scheduler?
    public var ioPriority: IOPriority?
    public var execCPUAffinity: CPUAffinity?

    public init(
        terminal: Bool? = nil, user: User = User(uid: 0, gid: 0), args: [String]?, env: [String]? = nil,
        cwd: String = "/", capabilities: Capabilities? = nil, rlimits: [Rlimit]? = nil,
        noNewPrivileges: Bool? = nil, oomScoreAdj: Int? = nil
    ) {
        self.terminal = terminal
        self.user = user
        self.args = args
        self.env = env
        self.cwd = cwd
        self.capabilities = capabilities
        self.rlimits = rlimits
        self.noNewPrivileges = noNewPrivileges
        self.oomScoreAdj = oomScoreAdj
    }
}

extension Process {
    enum CodingKeys: String, CodingKey {
        case terminal, consoleSize, user, args, env, cwd, capabilities, rlimits, noNewPrivileges
        case apparmorProfile, oomScoreAdj, selinuxLabel, scheduler, ioPriority, execCPUAffinity
    }

    /// As runc: a process without `user` (an `exec -p` process.json often
    /// has none) runs as uid 0, gid 0.
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        terminal = try container.decodeIfPresent(Bool.self, forKey: .terminal)
        consoleSize = try container.decodeIfPresent(ConsoleSize.self, forKey: .consoleSize)
        user = try container.decodeIfPresent(User.self, forKey: .user) ?? User(uid: 0, gid: 0)
        args = try container.decodeIfPresent([String].self, forKey: .args)
        env = try container.decodeIfPresent([String].self, forKey: .env)
        cwd = try container.decode(String.self, forKey: .cwd)
        capabilities = try container.decodeIfPresent(Capabilities.self, forKey: .capabilities)
        rlimits = try container.decodeIfPresent([Rlimit].self, forKey: .rlimits)
        noNewPrivileges = try container.decodeIfPresent(Bool.self, forKey: .noNewPrivileges)
        apparmorProfile = try container.decodeIfPresent(String.self, forKey: .apparmorProfile)
        oomScoreAdj = try container.decodeIfPresent(Int.self, forKey: .oomScoreAdj)
        selinuxLabel = try container.decodeIfPresent(String.self, forKey: .selinuxLabel)
        scheduler = try container.decodeIfPresent(Scheduler.self, forKey: .scheduler)
        ioPriority = try container.decodeIfPresent(IOPriority.self, forKey: .ioPriority)
        execCPUAffinity = try container.decodeIfPresent(CPUAffinity.self, forKey: .execCPUAffinity)
    }
}

/// process.scheduler (sched_setattr(2)).
public struct Scheduler: Codable, Sendable, Equatable {
    public var policy: String
    public var nice: Int32?
    public var priority: Int32?
    public var flags: [String]?
    public var runtime: UInt64?
    public var deadline: UInt64?
    public var period: UInt64?
    public init(policy: String, nice: Int32? = nil, priority: Int32? = nil) {
        self.policy = policy
        self.nice = nice
        self.priority = priority
    }
}

/// process.ioPriority (ioprio_set(2)).
public struct IOPriority: Codable, Sendable, Equatable {
    public var `class`: String
    public var priority: Int32?
}

/// process.execCPUAffinity: CPU lists ("0-3,7") before and after the
/// process joins the container's cgroup.
public struct CPUAffinity: Codable, Sendable, Equatable {
    public var initial: String?
    public var final: String?
}

public struct ConsoleSize: Codable, Sendable, Equatable {
    public var height: UInt16
    public var width: UInt16
}

public struct User: Codable, Sendable, Equatable {
    public var uid: UInt32
    public var gid: UInt32
    public var umask: UInt32?
    public var additionalGids: [UInt32]?
    public init(uid: UInt32, gid: UInt32, umask: UInt32? = nil, additionalGids: [UInt32]? = nil) {
        self.uid = uid
        self.gid = gid
        self.umask = umask
        self.additionalGids = additionalGids
    }
}

public struct Capabilities: Codable, Sendable, Equatable {
    public var bounding: [String]?
    public var effective: [String]?
    public var inheritable: [String]?
    public var permitted: [String]?
    public var ambient: [String]?
    public init(
        bounding: [String]? = nil, effective: [String]? = nil, inheritable: [String]? = nil,
        permitted: [String]? = nil, ambient: [String]? = nil
    ) {
        self.bounding = bounding
        self.effective = effective
        self.inheritable = inheritable
        self.permitted = permitted
        self.ambient = ambient
    }
}

public struct Rlimit: Codable, Sendable, Equatable {
    public var type: String
    public var hard: UInt64
    public var soft: UInt64
    public init(type: String, hard: UInt64, soft: UInt64) {
        self.type = type
        self.hard = hard
        self.soft = soft
    }
}

public struct Hooks: Codable, Sendable, Equatable {
    public var prestart: [Hook]?
    public var createRuntime: [Hook]?
    public var createContainer: [Hook]?
    public var startContainer: [Hook]?
    public var poststart: [Hook]?
    public var poststop: [Hook]?
    public init() {}
}

public struct Hook: Codable, Sendable, Equatable {
    public var path: String
    public var args: [String]?
    public var env: [String]?
    public var timeout: Int?
    public init(path: String, args: [String]? = nil, env: [String]? = nil, timeout: Int? = nil) {
        self.path = path
        self.args = args
        self.env = env
        self.timeout = timeout
    }
}
