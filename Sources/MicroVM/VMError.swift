// Failures of the VM backend, one line each.
public enum VMError: Error, CustomStringConvertible {
    /// A part the VM needs is missing or unusable (kernel, QEMU, KVM).
    case unusable(String)
    /// config.json asks for something the VM cannot honour.
    case config(String)
    /// The guest did not boot or its agent did not answer.
    case guest(String)

    public var description: String {
        switch self {
        case let .unusable(text): return "vm: " + text
        case let .config(text): return "vm: config.json: " + text
        case let .guest(text): return "vm: " + text
        }
    }
}
