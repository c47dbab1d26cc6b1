// `--debug`: runc writes a `level=debug` line for each step of an operation.
// The layers below the CLI name their steps here; the CLI sets the sink
// once, before any operation starts, and only with --debug, so without it
// a step costs one nil check (the message is not even built).
public enum DebugTrace {
    // Set once at start-up, before any thread exists, then only read.
    nonisolated(unsafe) public static var sink: ((String) -> Void)?

    public static func step(_ message: @autoclosure () -> String) {
        sink?(message())
    }
}
