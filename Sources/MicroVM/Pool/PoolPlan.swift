import OCI

/// `vessel vm pool fill` -> a pool VM's supervisor (in its plan). A pool
/// VM comes up (restored from its template) with no container, runs
/// `warmUp` once, so that TCG has translated the guest's paths of a
/// container's create and start before anyone waits on them, says it is
/// ready, and then takes exactly one container, which joins it as a pod's
/// further container joins its sandbox's VM (PodShare). When that
/// container's process ends, the VM ends.
public struct PoolPlan: Codable, Sendable {
    /// The state root of the containers that may join: their state
    /// directories, where the supervisor keeps their status, are there.
    public var memberRoot: String
    public var warmUp: PodJoin

    public init(memberRoot: String, warmUp: PodJoin) {
        self.memberRoot = memberRoot
        self.warmUp = warmUp
    }
}
