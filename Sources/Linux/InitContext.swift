import OSKit
import OCI

// The create hand-off: what the parent tells the re-executed `vessel init`
// (over the init socket, see InitHandoff): the validated spec, the file
// descriptors it inherited and the paths it needs.
public struct InitContext: Codable {
    /// Decoded and validated by `create`: the init does not read config.json.
    public var spec: Spec
    public var fifoFD: Int32
    public var consoleFD: Int32 = -1
    public var rootfs: String
    public var cgroupDirectory: String?
    public var noPivot = false
    /// Stop after mounting so the parent can run prestart/createRuntime hooks.
    public var pauseForHooks = false
    public var preserveFDs = 0
    /// Set when a new cgroup namespace is wanted: init unshares it after it
    /// has been moved into its cgroup, so the namespace is rooted there.
    public var unshareCgroup = false
    /// Give the container a session keyring of its own (unless --no-new-keyring).
    public var newKeyring: String?
    /// SCMP_ACT_NOTIFY: where the filter's notification fd goes.
    public var seccompAgent: SeccompAgent?
    /// With a new user namespace: each bind mount's source (by mounts
    /// index, -1 for none), opened O_PATH by the init's clone while still
    /// the host's root, as runc's mount fds: the container's root, a mapped
    /// uid, may not reach a source in a 0700 directory of the host's root.
    /// One that is not O_PATH did not open there: the init opens the path.
    public var bindSourceFDs: [Int32]?

    public init(spec: Spec, fifoFD: Int32, rootfs: String) {
        self.spec = spec
        self.fifoFD = fifoFD
        self.rootfs = rootfs
    }
}
