import MicroVM

// Flags of `create` and `run` that shape the container.
public struct CreateOptions: Sendable {
    public var bundle: String = "."
    public var pidFile: String?
    public var consoleSocket: String?
    public var noPivot = false
    public var noNewKeyring = false
    public var preserveFDs = 0
    /// --vm: run the bundle in a microVM. Also chosen by the annotation
    /// org.vessel.isolation=vm in config.json.
    public var vm = false
    public var vmSettings = VMSettings()
    /// `run`: start follows create at once, so nothing (an engine, an
    /// operator) can set the container's network up in between.
    public var startsAtOnce = false
    public init() {}
}
