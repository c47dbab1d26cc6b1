// The runtime-spec's state document, as `vessel state` prints it.
public enum ContainerStatus: String, Codable, Sendable {
    case creating, created, running, stopped, paused
}

public struct State: Codable, Sendable, Equatable {
    public var ociVersion: String
    public var id: String
    public var status: ContainerStatus
    public var pid: Int32?
    public var bundle: String
    public var annotations: [String: String]?

    public init(
        ociVersion: String, id: String, status: ContainerStatus, pid: Int32?, bundle: String,
        annotations: [String: String]?
    ) {
        self.ociVersion = ociVersion
        self.id = id
        self.status = status
        self.pid = pid
        self.bundle = bundle
        self.annotations = annotations
    }
}

public enum SpecVersion {
    /// What `spec` writes and what state documents carry by default.
    public static let current = "1.0.2"
    /// The newest runtime-spec whose fields vessel implements (features).
    public static let maximum = "1.2.1"
}
