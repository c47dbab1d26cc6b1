import ArgumentParser
import FoundationEssentials
import Glibc
import MicroVM
import OCI
import Runtime

/// For the commands with only ArgumentParser's parser: `perform` with a
/// body that has no exit status of its own.
func perform(_ global: GlobalOptions, _ body: () throws -> Void) throws {
    try exitUnlessZero(
        perform(global.settings) {
            try body()
            return 0
        })
}

/// Ends an ArgumentParser command with `code` unless it is 0.
func exitUnlessZero(_ code: Int32) throws {
    if code != 0 { throw ExitCode(code) }
}

func lifecycle(_ global: GlobalOptions) throws -> Lifecycle {
    Lifecycle(store: try global.settings.store()) { Log.logger.warning("\($0)") }
}

/// The flags `create` and `run` share, runc's names.
struct CreateFlags: ParsableArguments {
    @Option(name: OptionTable.bundle.names, help: "Path to the bundle directory.")
    var bundle: String = "."

    @Option(name: OptionTable.pidFile.names, help: "Write the container's pid to this file.")
    var pidFile: String?

    @Option(name: OptionTable.consoleSocket.names, help: "Unix socket that receives the pty master (process.terminal).")
    var consoleSocket: String?

    @Flag(name: .customLong("no-pivot"), help: "Use MS_MOVE and chroot instead of pivot_root.")
    var noPivot = false

    @Flag(name: .customLong("no-new-keyring"), help: "Keep the caller's session keyring.")
    var noNewKeyring = false

    @Option(name: .customLong("preserve-fds"), help: "Pass this many extra file descriptors (from fd 3) to the container.")
    var preserveFDs: Int = 0

    var options: CreateOptions {
        var options = CreateOptions()
        options.bundle = bundle
        options.pidFile = pidFile
        options.consoleSocket = consoleSocket
        options.noPivot = noPivot
        options.noNewKeyring = noNewKeyring
        options.preserveFDs = max(0, preserveFDs)
        return options
    }
}
