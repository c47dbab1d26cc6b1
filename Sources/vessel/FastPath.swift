import Glibc
import Linux
import MicroVM
import Runtime

// The command forms engines call thousands of times — `state <id>`,
// `start <id>`, `kill [-a|--all] <id> [SIGNAL]`, `delete [-f|--force] <id>`,
// `create [-b|--bundle B] [--pid-file F] [--console-socket S] <id>`,
// `run [-d|--detach] [the create flags] <id>` and `exec [-d|--detach]
// [--pid-file F] [-p|--process P] <id> [COMMAND [ARG...]]` — with runc's
// global flags --root, --log, --log-format and --debug before or after the
// subcommand, parsed by hand, so they skip swift-argument-parser's
// reflection. Anything not recognised exactly (another flag, --help, a
// repeated option, an empty value or one that looks like a flag, an `exec`
// argument after the id that starts with `-`, --vm or --vm-*, argv[0]
// `vessel-vm`) is left to `Vessel.main`.
//
// The commands' bodies are those of LifecycleCommands.swift, RunCommand.swift
// and ExecCommand.swift, through the same functions (containerID, printJSON,
// SignalName, createContainer, forwardSignals, Lifecycle, ProcessExecutor,
// Reporter), so output, log lines and exit codes are the same.
// VESSEL_NO_FAST_PATH=1 turns the fast path off (tests compare both paths;
// benchmarks time both).
enum FastPath {
    enum Command: String {
        case state, start, kill, delete, create, run, exec
    }

    struct Invocation {
        var command: Command
        var root = "/run/vessel"
        var log: String?
        var logFormat: LogFormat = .text
        var debug = false
        /// `kill --all` or `delete --force`.
        var flag = false
        var id: String
        /// `kill` only; its default is ArgumentParser's default.
        var signal = "SIGTERM"
        /// `create` and `run`: CreateFlags' --bundle (default "."),
        /// --pid-file, --console-socket; `exec`: --pid-file, --process.
        var bundle = "."
        var pidFile: String?
        var consoleSocket: String?
        var process: String?
        /// `run` and `exec`: --detach.
        var detach = false
        /// `exec`: the command after the id.
        var arguments: [String] = []
    }

    /// Runs a recognised invocation and exits; returns if it is not one. As
    /// pid 1 vessel may be something else (a VM guest's /init): not taken.
    static func runIfRecognised(_ arguments: [String]) {
        guard getenv("VESSEL_NO_FAST_PATH") == nil, getpid() != 1, let invocation = parse(arguments) else { return }
        exit(run(invocation))
    }

    /// nil unless `arguments` (argv, argv[0] included) is exactly one of the
    /// fast forms.
    static func parse(_ arguments: [String]) -> Invocation? {
        guard let argv0 = arguments.first, argv0.split(separator: "/").last != "vessel-vm" else { return nil }
        var command: Command?
        var root: String?, log: String?, logFormat: LogFormat?
        var debug = false, flag = false, detach = false
        var bundle: String?, pidFile: String?, consoleSocket: String?, process: String?
        var positionals: [String] = []
        var index = 1
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            guard argument.hasPrefix("-") else {
                guard !argument.isEmpty else { return nil }
                if command == nil {
                    guard let name = Command(rawValue: argument) else { return nil }
                    command = name
                } else {
                    positionals.append(argument)
                }
                continue
            }
            if argument == "--vm" || argument.hasPrefix("--vm-") || argument.hasPrefix("--vm=") { return nil }
            // After exec's id, ArgumentParser hands everything to the command
            // (captureForPassthrough): leave any such form to it.
            if command == .exec && !positionals.isEmpty { return nil }
            let name: Substring, inline: Substring?
            if let equals = argument.firstIndex(of: "="), argument.hasPrefix("--") {
                name = argument[..<equals]
                inline = argument[argument.index(after: equals)...]
            } else {
                name = argument[...]
                inline = nil
            }
            switch name {
            case "--root", "--log", "--log-format", "--bundle", "-b", "--pid-file", "--console-socket", "--process", "-p":
                switch (name, command) {
                case ("--root", _), ("--log", _), ("--log-format", _): break
                case ("--bundle", .create?), ("--bundle", .run?), ("-b", .create?), ("-b", .run?): break
                case ("--console-socket", .create?), ("--console-socket", .run?): break
                case ("--pid-file", .create?), ("--pid-file", .run?), ("--pid-file", .exec?): break
                case ("--process", .exec?), ("-p", .exec?): break
                default: return nil
                }
                let value: String
                if let inline {
                    value = String(inline)
                } else {
                    guard index < arguments.count else { return nil }
                    value = arguments[index]
                    index += 1
                }
                guard !value.isEmpty, !value.hasPrefix("-") else { return nil }
                switch name {
                case "--root":
                    guard root == nil else { return nil }
                    root = value
                case "--log":
                    guard log == nil else { return nil }
                    log = value
                case "--bundle", "-b":
                    guard bundle == nil else { return nil }
                    bundle = value
                case "--pid-file":
                    guard pidFile == nil else { return nil }
                    pidFile = value
                case "--console-socket":
                    guard consoleSocket == nil else { return nil }
                    consoleSocket = value
                case "--process", "-p":
                    guard process == nil else { return nil }
                    process = value
                case "--log-format":
                    guard logFormat == nil, let format = LogFormat(rawValue: value) else { return nil }
                    logFormat = format
                default:
                    return nil
                }
            case "--debug":
                guard inline == nil, !debug else { return nil }
                debug = true
            case "--all", "-a":
                guard inline == nil, command == .kill, !flag else { return nil }
                flag = true
            case "--force", "-f":
                guard inline == nil, command == .delete, !flag else { return nil }
                flag = true
            case "--detach", "-d":
                guard inline == nil, command == .run || command == .exec, !detach else { return nil }
                detach = true
            default:
                return nil
            }
        }
        guard let command, let id = positionals.first else { return nil }
        var invocation = Invocation(command: command, log: log, logFormat: logFormat ?? .text, debug: debug,
                                    flag: flag, id: id)
        if let root { invocation.root = root }
        invocation.bundle = bundle ?? "."
        invocation.pidFile = pidFile
        invocation.consoleSocket = consoleSocket
        invocation.process = process
        invocation.detach = detach
        switch (command, positionals.count) {
        case (.exec, _) where process == nil:
            invocation.arguments = Array(positionals.dropFirst())
        case (_, 1):
            break
        case (.kill, 2):
            invocation.signal = positionals[1]
        default:
            return nil
        }
        return invocation
    }

    /// What `perform` and the commands in LifecycleCommands.swift do; the
    /// exit status.
    static func run(_ invocation: Invocation) -> Int32 {
        Log.configure(log: invocation.log, format: invocation.logFormat, debug: invocation.debug)
        let lifecycle = Lifecycle(store: StateStore(root: invocation.root)) { Log.logger.warning("\($0)") }
        do {
            switch invocation.command {
            case .state:
                try printJSON(lifecycle.report(containerID(invocation.id)))
            case .start:
                try lifecycle.start(containerID(invocation.id))
            case .kill:
                guard let number = SignalName.parse(invocation.signal) else {
                    throw RuntimeError.invalidArgument("unknown signal \(invocation.signal.debugDescription)")
                }
                try lifecycle.kill(containerID(invocation.id), signal: number, all: invocation.flag)
            case .delete:
                let id = try containerID(invocation.id)
                do {
                    try lifecycle.delete(id, force: invocation.flag)
                } catch RuntimeError.notFound where invocation.flag {
                    return 0
                }
            case .create:
                _ = try createContainer(root: invocation.root, containerID(invocation.id), createOptions(invocation),
                                        vmSettings: defaultVMSettings())
            case .run:
                // RunCommand.run, without --keep.
                let id = try containerID(invocation.id)
                let pid = try createContainer(root: invocation.root, id, createOptions(invocation),
                                              vmSettings: defaultVMSettings())
                do {
                    try lifecycle.start(id)
                } catch {
                    try? lifecycle.delete(id, force: true)
                    throw error
                }
                if invocation.detach { return 0 }
                forwardSignals(to: pid)
                let exitCode = Spawner.exitCode(fromWaitStatus: Spawner.wait(pid))
                try lifecycle.delete(id, force: true)
                return exitCode
            case .exec:
                // ExecCommand.run with only --process, --pid-file, --detach.
                var options = ExecOptions()
                options.processFile = invocation.process
                options.arguments = invocation.arguments
                options.pidFile = invocation.pidFile
                let executor = ProcessExecutor(store: StateStore(root: invocation.root))
                let pid = try executor.exec(containerID(invocation.id), options: options)
                if invocation.detach { return 0 }
                forwardSignals(to: pid)
                return Spawner.exitCode(fromWaitStatus: Spawner.wait(pid))
            }
            return 0
        } catch {
            Log.logger.error("\(error)")
            return 1
        }
    }

    /// CreateFlags.options for the flags the fast path takes.
    static func createOptions(_ invocation: Invocation) -> CreateOptions {
        var options = CreateOptions()
        options.bundle = invocation.bundle
        options.pidFile = invocation.pidFile
        options.consoleSocket = invocation.consoleSocket
        return options
    }

    /// GlobalOptions' --vm-* defaults, for a bundle whose annotation asks for
    /// a VM; parsed only then.
    static func defaultVMSettings() -> VMSettings {
        (try? GlobalOptions.parse([]))?.vmSettings ?? VMSettings()
    }
}
