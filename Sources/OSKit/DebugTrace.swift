import Synchronization

// `--debug`: runc writes a `level=debug` line for each step of an operation.
// The layers below the CLI name their steps here; the CLI sets the sink
// once, before any operation starts, and only with --debug, so without it
// a step costs one lock and a nil check (the message is not even built).
public enum DebugTrace {
    // Set once at start-up, then only read: a Mutex proves it race-free.
    private static let current = Mutex<(@Sendable (String) -> Void)?>(nil)

    public static var sink: (@Sendable (String) -> Void)? {
        get { current.withLock { $0 } }
        set { current.withLock { $0 = newValue } }
    }

    public static func step(_ message: @autoclosure () -> String) {
        sink?(message())
    }
}
