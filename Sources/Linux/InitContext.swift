import Glibc

// What the parent tells the re-executed `vessel init` through its
// environment: file descriptors it inherited and the paths it needs.
public struct InitContext {
    public var socketFD: Int32
    public var fifoFD: Int32
    public var consoleFD: Int32 = -1
    public var bundle: String
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

    public init(socketFD: Int32, fifoFD: Int32, bundle: String, rootfs: String) {
        self.socketFD = socketFD
        self.fifoFD = fifoFD
        self.bundle = bundle
        self.rootfs = rootfs
    }

    public var environment: [String] {
        var env = [
            "_VESSEL_SOCKET=\(socketFD)", "_VESSEL_FIFO=\(fifoFD)", "_VESSEL_CONSOLE=\(consoleFD)",
            "_VESSEL_BUNDLE=\(bundle)", "_VESSEL_ROOTFS=\(rootfs)", "_VESSEL_PRESERVE_FDS=\(preserveFDs)",
        ]
        if let cgroupDirectory { env.append("_VESSEL_CGROUP=\(cgroupDirectory)") }
        if noPivot { env.append("_VESSEL_NO_PIVOT=1") }
        if pauseForHooks { env.append("_VESSEL_PAUSE=1") }
        if unshareCgroup { env.append("_VESSEL_CGROUPNS=1") }
        if let newKeyring { env.append("_VESSEL_KEYRING=\(newKeyring)") }
        return env
    }

    public static func fromEnvironment() -> InitContext? {
        func value(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }
        guard let socket = value("_VESSEL_SOCKET").flatMap(Int32.init),
              let fifo = value("_VESSEL_FIFO").flatMap(Int32.init),
              let bundle = value("_VESSEL_BUNDLE"), let rootfs = value("_VESSEL_ROOTFS") else { return nil }
        var context = InitContext(socketFD: socket, fifoFD: fifo, bundle: bundle, rootfs: rootfs)
        context.consoleFD = value("_VESSEL_CONSOLE").flatMap(Int32.init) ?? -1
        context.cgroupDirectory = value("_VESSEL_CGROUP")
        context.noPivot = value("_VESSEL_NO_PIVOT") == "1"
        context.pauseForHooks = value("_VESSEL_PAUSE") == "1"
        context.unshareCgroup = value("_VESSEL_CGROUPNS") == "1"
        context.newKeyring = value("_VESSEL_KEYRING")
        context.preserveFDs = value("_VESSEL_PRESERVE_FDS").flatMap(Int.init) ?? 0
        return context
    }
}
