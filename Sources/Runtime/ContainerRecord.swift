import FoundationEssentials
import Linux
import OSKit
import OCI

// What vessel keeps about a container in <root>/<id>/state.json. The
// status is never stored: it is derived from the process and the FIFO each
// time, so it stays right after the process exits or the runtime crashes.
public struct ContainerRecord: Codable, Sendable {
    public var id: String
    public var bundle: String
    public var rootfs: String
    /// 0 while `create` has not spawned the init yet.
    public var pid: Int32
    /// /proc/<pid>/stat's start time, to tell our process from a reused pid.
    public var pidStartTime: UInt64
    public var created: String
    public var owner: String
    public var annotations: [String: String]?
    public var cgroupMountPoint: String?
    public var cgroupPath: String?
    public var hooks: Hooks?
    public var ociVersion: String
    /// linux.devices, which `update` keeps allowed when it replaces the
    /// device filter (nil in records of older versions).
    public var devices: [Device]? = nil
    /// Set for a VM-mode container, whose pid is its VM supervisor's.
    public var vm: VMInfo? = nil
    /// Whether `create` made the cgroup, or joined one that another
    /// container made: only then may `delete` kill everything in it and
    /// remove it. Absent (records from before) counts as owned.
    public var ownsCgroup: Bool? = nil
    /// What `create` decided for the container's process and seccomp: `exec`
    /// starts from these, never from the bundle, which may have changed
    /// since (nil in records of older versions: exec reads config.json).
    public var process: Process? = nil
    public var seccomp: Seccomp? = nil
    /// For a container without a cgroup (rootless): a namespace its init
    /// was made in ("pid:[4026532201]"), which proves a live pid is still
    /// the container's (InitNamespace).
    public var initNamespace: String? = nil
    /// True where config.json gave no pid namespace: the init is not pid 1
    /// of its own, and its death leaves the container's other processes.
    public var sharesPIDNamespace: Bool? = nil
}

extension ContainerRecord {
    /// What can still be read from a state.json that does not decode:
    /// each field that parses, the rest empty. Hooks are dropped: a
    /// corrupt file is no reason to run anything.
    static func salvaged(id: String, from data: Data) -> ContainerRecord {
        let fields = (try? JSONDecoder().decode(SalvagedFields.self, from: data)) ?? SalvagedFields()
        var record = ContainerRecord(
            id: id, bundle: fields.bundle ?? "", rootfs: fields.rootfs ?? "", pid: fields.pid ?? 0,
            pidStartTime: fields.pidStartTime ?? 0, created: fields.created ?? "", owner: fields.owner ?? "",
            annotations: nil, cgroupMountPoint: fields.cgroupMountPoint ?? fields.cgroupPath.flatMap { _ in Cgroup.findMountPoint() },
            cgroupPath: fields.cgroupPath,
            hooks: nil, ociVersion: fields.ociVersion ?? "")
        record.vm = fields.vm
        record.ownsCgroup = fields.ownsCgroup
        record.initNamespace = fields.initNamespace
        return record
    }
}

/// ContainerRecord's fields, each decoded on its own so one bad field does
/// not lose the others.
private struct SalvagedFields: Decodable {
    var bundle: String?, rootfs: String?, created: String?, owner: String?, ociVersion: String?
    var pid: Int32?, pidStartTime: UInt64?
    var cgroupMountPoint: String?, cgroupPath: String?, ownsCgroup: Bool?, initNamespace: String?
    var vm: VMInfo?

    /// ContainerRecord's keys (its own CodingKeys are private to it).
    enum Key: String, CodingKey {
        case bundle, rootfs, created, owner, ociVersion, pid, pidStartTime, cgroupMountPoint, cgroupPath, ownsCgroup,
            initNamespace, vm
    }

    init() {}

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        func field<T: Decodable>(_ key: Key) -> T? { try? container.decodeIfPresent(T.self, forKey: key) }
        bundle = field(.bundle)
        rootfs = field(.rootfs)
        created = field(.created)
        owner = field(.owner)
        ociVersion = field(.ociVersion)
        pid = field(.pid)
        pidStartTime = field(.pidStartTime)
        cgroupMountPoint = field(.cgroupMountPoint)
        cgroupPath = field(.cgroupPath)
        ownsCgroup = field(.ownsCgroup)
        initNamespace = field(.initNamespace)
        vm = field(.vm)
    }
}

/// What the runtime keeps about a VM-mode container.
public struct VMInfo: Codable, Sendable {
    public var qemuPID: Int32
    public var accelerator: String
    public var guestKernel: String
    /// How the guest came up: "cold" or "template <hash>" (BootRecord.mode).
    public var boot: String?
    /// A pod sandbox: later containers of the pod may join its VM (PodShare).
    public var podSandbox: Bool?
    /// A container that joined a pod sandbox's VM: the sandbox's id. Its
    /// pid is its host relay's (`vessel vm-member`). Read through
    /// `sandboxID`, which a forged state.json cannot turn into a path.
    public var sandbox: String?
    /// A container that took a VM of the pool (VMPool): the entry's number.
    /// Its pid is its host relay's, as a pod member's.
    public var poolEntry: Int?

    /// The sandbox's id if it is one (no "/", no ".."); nil otherwise.
    public var sandboxID: ContainerID? { sandbox.flatMap { try? ContainerID($0) } }

    /// Whether the container runs in a VM another supervisor serves, its
    /// pid its host relay's (`vessel vm-member`).
    public var isMember: Bool { sandbox != nil || poolEntry != nil }

    public init(qemuPID: Int32, accelerator: String, guestKernel: String, boot: String? = nil) {
        self.qemuPID = qemuPID
        self.accelerator = accelerator
        self.guestKernel = guestKernel
        self.boot = boot
    }
}
