// A pod in VM mode is one VM (issue 12; docs/decisions.md, "A pod as one
// VM"): the pod sandbox's. microvm has no hot-pluggable devices, so the
// sandbox's VM boots with one more 9p share, its pod directory, and every
// later container of the pod reaches the running guest through it: its root
// filesystem and the sources of its bind mounts are bind-mounted on the host
// under `<pod directory>/<id>/`, and 9p serves them live.
public enum PodShare {
    public static let tag = "pod"
    /// Where the agent mounts the share in the guest.
    public static let guestRoot = GuestSpec.sharesRoot + "/" + tag

    /// The pod directory of the sandbox whose state directory is `directory`.
    public static func hostDirectory(ofSandbox directory: String) -> String { directory + "/pod" }

    /// A member's entry `name` ("rootfs", "m3") as the guest sees it.
    public static func guestPath(member id: String, _ name: String) -> String { guestRoot + "/" + id + "/" + name }
}

/// A host path a member needs in the guest, bound at `<pod directory>/<id>/<name>`.
public struct PodBind: Codable, Sendable, Equatable {
    public var source: String
    public var name: String
    /// Whether the source is a directory (the bind target is made to match).
    public var isDirectory: Bool
    /// The config.json field it comes from, for errors.
    public var field: String

    public init(source: String, name: String, isDirectory: Bool, field: String) {
        self.source = source
        self.name = name
        self.isDirectory = isDirectory
        self.field = field
    }
}
