import OCI

/// What the agent gets to run a further container of the pod in the
/// sandbox's VM (the sandbox's supervisor passes it on).
public struct PodJoin: Codable, Sendable, Equatable {
    public var id: String
    /// The spec as the guest runs it, without the namespaces in `joins`.
    public var spec: Spec
    /// The namespaces the container shares with the sandbox: the agent
    /// joins the sandbox's, in the guest.
    public var joins: [NamespaceType]
    /// The exec slot whose ports carry the container's stdio; the member's
    /// host relay reserved it and owns it.
    public var slot: Int
    /// Set by a pool VM's supervisor: the guest may have waited long since
    /// its restore, so its RNG is reseeded and its clock set again.
    public var refresh: GuestRefresh?

    public init(id: String, spec: Spec, joins: [NamespaceType], slot: Int) {
        self.id = id
        self.spec = spec
        self.joins = joins
        self.slot = slot
    }
}
