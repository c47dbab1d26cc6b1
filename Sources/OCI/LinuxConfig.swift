// The `linux` object of config.json (config-linux.md).

public struct LinuxConfig: Codable, Sendable, Equatable {
    public var namespaces: [Namespace]?
    public var uidMappings: [IDMapping]?
    public var gidMappings: [IDMapping]?
    public var timeOffsets: [String: TimeOffset]?
    public var devices: [Device]?
    public var cgroupsPath: String?
    public var resources: Resources?
    public var rootfsPropagation: String?
    public var seccomp: Seccomp?
    public var sysctl: [String: String]?
    public var maskedPaths: [String]?
    public var readonlyPaths: [String]?
    public var mountLabel: String?
    public var personality: Personality?
    public var intelRdt: IntelRdt?
    /// runtime-spec 1.2: host interfaces moved into the container's network namespace.
    public var netDevices: [String: NetDevice]?
    public init() {}
}

public enum NamespaceType: String, Codable, Sendable, CaseIterable {
    case pid, network, mount, ipc, uts, user, cgroup, time
}

public struct Namespace: Codable, Sendable, Equatable {
    public var type: NamespaceType
    public var path: String?
    public init(type: NamespaceType, path: String? = nil) {
        self.type = type
        self.path = path
    }
}

public struct IDMapping: Codable, Sendable, Equatable {
    public var containerID: UInt32
    public var hostID: UInt32
    public var size: UInt32
    public init(containerID: UInt32, hostID: UInt32, size: UInt32) {
        self.containerID = containerID
        self.hostID = hostID
        self.size = size
    }
}

public struct TimeOffset: Codable, Sendable, Equatable {
    public var secs: Int64?
    public var nanosecs: UInt32?
    public init(secs: Int64? = nil, nanosecs: UInt32? = nil) {
        self.secs = secs
        self.nanosecs = nanosecs
    }
}

public struct Device: Codable, Sendable, Equatable {
    public var type: String
    public var path: String
    public var major: Int64?
    public var minor: Int64?
    public var fileMode: UInt32?
    public var uid: UInt32?
    public var gid: UInt32?
    public init(
        type: String, path: String, major: Int64?, minor: Int64?, fileMode: UInt32? = nil,
        uid: UInt32? = nil, gid: UInt32? = nil
    ) {
        self.type = type
        self.path = path
        self.major = major
        self.minor = minor
        self.fileMode = fileMode
        self.uid = uid
        self.gid = gid
    }
}

public struct Personality: Codable, Sendable, Equatable {
    public var domain: String
    public var flags: [String]?
    public init(domain: String, flags: [String]? = nil) {
        self.domain = domain
        self.flags = flags
    }
}

public struct Seccomp: Codable, Sendable, Equatable {
    public var defaultAction: String
    public var defaultErrnoRet: UInt32?
    public var architectures: [String]?
    public var flags: [String]?
    public var listenerPath: String?
    public var listenerMetadata: String?
    public var syscalls: [SeccompSyscall]?
    public init(
        defaultAction: String, defaultErrnoRet: UInt32? = nil, architectures: [String]? = nil,
        flags: [String]? = nil, syscalls: [SeccompSyscall]? = nil
    ) {
        self.defaultAction = defaultAction
        self.defaultErrnoRet = defaultErrnoRet
        self.architectures = architectures
        self.flags = flags
        self.syscalls = syscalls
    }
}

public struct SeccompSyscall: Codable, Sendable, Equatable {
    public var names: [String]
    public var action: String
    public var errnoRet: UInt32?
    public var args: [SeccompArg]?
    public init(names: [String], action: String, errnoRet: UInt32? = nil, args: [SeccompArg]? = nil) {
        self.names = names
        self.action = action
        self.errnoRet = errnoRet
        self.args = args
    }
}

public struct SeccompArg: Codable, Sendable, Equatable {
    public var index: UInt32
    public var value: UInt64
    public var valueTwo: UInt64?
    public var op: String
    public init(index: UInt32, value: UInt64, valueTwo: UInt64? = nil, op: String) {
        self.index = index
        self.value = value
        self.valueTwo = valueTwo
        self.op = op
    }
}

/// linux.intelRdt: decoded so it can be refused by name (resctrl).
public struct IntelRdt: Codable, Sendable, Equatable {
    public var closID: String?
    public var l3CacheSchema: String?
    public var memBwSchema: String?
}

/// linux.netDevices["host name"]: the name it gets in the container.
public struct NetDevice: Codable, Sendable, Equatable {
    public var name: String?
    public init(name: String? = nil) { self.name = name }
}

extension Seccomp {
    /// Whether any rule hands its syscall to a user-space agent (SCMP_ACT_NOTIFY).
    public var notifies: Bool { (syscalls ?? []).contains { $0.action == "SCMP_ACT_NOTIFY" } }
}
