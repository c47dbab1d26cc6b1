import Glibc
import Linux
import OSKit
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
// It produces the same GlobalSettings and Invocation values as the
// ArgumentParser commands and runs them through the same `execute`
// (CommandBodies.swift): one body per command, so output, log lines and
// exit codes are the same.
// VESSEL_NO_FAST_PATH=1 turns the fast path off (tests compare both paths;
// benchmarks time both).
enum FastPath {
    enum Command: String {
        case state, start, kill, delete, create, run, exec
    }

    /// Runs a recognised invocation and exits; returns if it is not one. As
    /// pid 1 vessel may be something else (a VM guest's /init): not taken.
    static func runIfRecognised(_ arguments: [String]) {
        guard getenv("VESSEL_NO_FAST_PATH") == nil, getpid() != 1, let (global, invocation) = parse(arguments) else { return }
        exit(execute(invocation, global))
    }

    /// nil unless `arguments` (argv, argv[0] included) is exactly one of the
    /// fast forms.
    static func parse(_ arguments: [String]) -> (GlobalSettings, Invocation)? {
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
        var global = GlobalSettings(log: log, logFormat: logFormat ?? .text, debug: debug)
        if let root { global.root = root }
        var options = CreateOptions()
        options.bundle = bundle ?? "."
        options.pidFile = pidFile
        options.consoleSocket = consoleSocket
        switch (command, positionals.count) {
        case (.exec, _):
            guard process == nil || positionals.count == 1 else { return nil }
            var exec = ExecOptions()
            exec.processFile = process
            exec.arguments = Array(positionals.dropFirst())
            exec.pidFile = pidFile
            return (global, .exec(id: id, exec, detach: detach))
        case (.kill, 1), (.kill, 2):
            return (global, .kill(id: id, signal: positionals.count == 2 ? positionals[1] : "SIGTERM", all: flag))
        case (.state, 1): return (global, .state(id: id))
        case (.start, 1): return (global, .start(id: id))
        case (.delete, 1): return (global, .delete(id: id, force: flag))
        case (.create, 1): return (global, .create(id: id, options))
        case (.run, 1): return (global, .run(id: id, options, detach: detach, keep: false))
        default: return nil
        }
    }
}
