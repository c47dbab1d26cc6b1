import Errors

/// runc's rule for a terminal and `--console-socket`, checked before
/// anything is made: a detached process's pty must go to a console socket,
/// and a console socket is only for a detached process with a terminal
/// (a foreground one's pty is relayed by vessel itself).
public enum ConsoleSocketRule {
    public static func check(detached: Bool, terminal: Bool, consoleSocket: String?) throws(VesselError) {
        if detached && terminal && consoleSocket == nil {
            throw .invalidArgument("process.terminal is true but no --console-socket was given: a detached process's pty must go somewhere")
        }
        guard consoleSocket != nil else { return }
        if !terminal {
            throw .invalidArgument("--console-socket was given but the process has no terminal (process.terminal is false)")
        }
        if !detached {
            throw .invalidArgument("--console-socket is only for a detached process (create, run -d, exec -d); in the foreground vessel relays the terminal itself")
        }
    }
}
