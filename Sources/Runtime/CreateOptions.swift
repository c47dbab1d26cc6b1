// Flags of `create` and `run` that shape the container.
public struct CreateOptions: Sendable {
    public var bundle: String = "."
    public var pidFile: String?
    public var consoleSocket: String?
    public var noPivot = false
    public var noNewKeyring = false
    public var preserveFDs = 0
    public init() {}
}
