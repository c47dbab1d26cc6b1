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
}

/// What the runtime keeps about a VM-mode container.
public struct VMInfo: Codable, Sendable {
    public var qemuPID: Int32
    public var accelerator: String
    public var guestKernel: String
}
