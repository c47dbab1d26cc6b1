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
// exit codes are the same. Both parsers take the options' names from one
// table (OptionTable.swift), which also lists the forms taken here.
// VESSEL_NO_FAST_PATH=1 turns the fast path off (tests compare both paths;
// benchmarks time both).
enum FastPath {
    enum Command: String, CaseIterable {
        case state, start, kill, delete, create, run, exec
    }

    /// An option read with its value.
    struct Given {
        let option: OptionName
        let value: String
    }

    /// Runs a recognised invocation and exits; returns if it is not one. As
    /// pid 1 vessel may be something else (a VM guest's /init): not taken.
    static func runIfRecognised(_ arguments: [String]) {
        guard getenv("VESSEL_NO_FAST_PATH") == nil, getpid() != 1, let (global, invocation) = parse(arguments) else { return }
        exit(execute(invocation, global))
    }

    /// nil unless `arguments` (argv, argv[0] included) is exactly one of the
    /// fast forms (OptionTable.fastForms).
    static func parse(_ arguments: [String]) -> (GlobalSettings, Invocation)? {
        guard let argv0 = arguments.first, argv0.split(separator: "/").last != "vessel-vm" else { return nil }
        var command: Command?
        // A handful at most: arrays, not a Dictionary and a Set to hash into.
        var values: [Given] = []
        var flags: [OptionName] = []
        func given(_ option: OptionName) -> String? { values.first { $0.option == option }?.value }
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
            let accepted = OptionTable.accepted(after: command)
            if let option = accepted.values.first(where: { $0.spellings.contains(String(name)) }) {
                let value: String
                if let inline {
                    value = String(inline)
                } else {
                    guard index < arguments.count else { return nil }
                    value = arguments[index]
                    index += 1
                }
                guard !value.isEmpty, !value.hasPrefix("-"), !values.contains(where: { $0.option == option }) else { return nil }
                values.append(Given(option: option, value: value))
            } else if let flag = accepted.flags.first(where: { $0.spellings.contains(String(name)) }) {
                guard inline == nil, !flags.contains(flag) else { return nil }
                flags.append(flag)
            } else {
                return nil
            }
        }
        guard let command, let id = positionals.first else { return nil }
        var logFormat = LogFormat.text
        if let text = given(OptionTable.logFormat) {
            guard let format = LogFormat(rawValue: text) else { return nil }
            logFormat = format
        }
        var global = GlobalSettings(log: given(OptionTable.log), logFormat: logFormat, debug: flags.contains(OptionTable.debug))
        if let root = given(OptionTable.root) { global.root = root }
        var options = CreateOptions()
        options.bundle = given(OptionTable.bundle) ?? "."
        options.pidFile = given(OptionTable.pidFile)
        options.consoleSocket = given(OptionTable.consoleSocket)
        let detach = flags.contains(OptionTable.detach)
        switch (command, positionals.count) {
        case (.exec, _):
            let process = given(OptionTable.process)
            guard process == nil || positionals.count == 1 else { return nil }
            var exec = ExecOptions()
            exec.processFile = process
            exec.arguments = Array(positionals.dropFirst())
            exec.pidFile = given(OptionTable.pidFile)
            return (global, .exec(id: id, exec, detach: detach))
        case (.kill, 1), (.kill, 2):
            return (
                global,
                .kill(
                    id: id, signal: positionals.count == 2 ? positionals[1] : "SIGTERM",
                    all: flags.contains(OptionTable.all))
            )
        case (.state, 1): return (global, .state(id: id))
        case (.start, 1): return (global, .start(id: id))
        case (.delete, 1): return (global, .delete(id: id, force: flags.contains(OptionTable.force)))
        case (.create, 1): return (global, .create(id: id, options))
        case (.run, 1): return (global, .run(id: id, options, detach: detach, keep: false))
        default: return nil
        }
    }
}
