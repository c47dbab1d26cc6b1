import ArgumentParser
import FoundationEssentials
import Glibc
import MicroVM
import OCI
import Runtime

/// Shared by every subcommand: logging set-up, the refusals of what vessel
/// does not support, and one error line with exit status 1 on failure.
func perform(_ global: GlobalOptions, _ body: () throws -> Void) throws {
    Log.configure(global)
    do {
        if global.systemdCgroup {
            throw RuntimeError.unsupported("--systemd-cgroup is not supported: vessel manages cgroup v2 directly (cgroupfs)")
        }
        try body()
    } catch let exit as ExitCode {
        throw exit
    } catch {
        Log.logger.error("\(error)")
        throw ExitCode(1)
    }
}

func containerID(_ text: String) throws -> ContainerID {
    do {
        return try ContainerID(text)
    } catch {
        throw RuntimeError.invalidArgument(error.description)
    }
}

func lifecycle(_ global: GlobalOptions) -> Lifecycle {
    Lifecycle(store: StateStore(root: global.root)) { Log.logger.warning("\($0)") }
}

/// `create`, in namespaces or (--vm, vessel-vm, or the bundle's
/// org.vessel.isolation=vm annotation) in a microVM; returns the host pid.
func createContainer(_ global: GlobalOptions, _ id: ContainerID, _ flags: CreateFlags) throws -> pid_t {
    var options = flags.options
    options.vm = global.vm
    return try createContainer(root: global.root, id, options, vmSettings: global.vmSettings)
}

/// The body of the above, shared with FastPath (which has no GlobalOptions:
/// it declines --vm and --vm-*, so `vmSettings` are the defaults there).
/// config.json is decoded once, for the choice of backend and the backend.
func createContainer(root: String, _ id: ContainerID, _ options: CreateOptions,
                     vmSettings: @autoclosure () -> VMSettings) throws -> pid_t {
    var options = options
    let store = StateStore(root: root)
    let bundle = try ContainerCreator.loadBundle(options.bundle)
    guard VMCreator.wanted(options, spec: bundle.spec) else {
        return try ContainerCreator(store: store) { Log.logger.warning("\($0)") }
            .create(id: id, options: options, bundle: bundle)
    }
    options.vmSettings = vmSettings()
    let creator = VMCreator(store: store, settings: options.vmSettings,
                            info: { Log.logger.info("\($0)") }, warn: { Log.logger.warning("\($0)") })
    return try creator.create(id: id, options: options, bundle: bundle)
}

func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// The flags `create` and `run` share, runc's names.
struct CreateFlags: ParsableArguments {
    @Option(name: [.short, .customLong("bundle")], help: "Path to the bundle directory.")
    var bundle: String = "."

    @Option(name: .customLong("pid-file"), help: "Write the container's pid to this file.")
    var pidFile: String?

    @Option(name: .customLong("console-socket"), help: "Unix socket that receives the pty master (process.terminal).")
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
