// A sysctl that changes what a probed call needs: with some values the
// call needs a capability, with others nobody may make it.
struct PolicyKnob: Sendable {
    let name: String
    let needsCapability: @Sendable (String) -> Bool
    let blocksEveryone: @Sendable (String) -> Bool

    init(
        _ name: String, needsCapability: @escaping @Sendable (String) -> Bool = { _ in false },
        blocksEveryone: @escaping @Sendable (String) -> Bool = { _ in false }
    ) {
        self.name = name
        self.needsCapability = needsCapability
        self.blocksEveryone = blocksEveryone
    }

    /// "kernel.x=2", or nil where the kernel has no such knob.
    func setting(in sysctls: [String: String]) -> (value: String, text: String)? {
        guard let value = sysctls[name], value != "absent", value != "unreadable" else { return nil }
        return (value, "\(name)=\(value)")
    }
}
