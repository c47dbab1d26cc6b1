import ArgumentParser
import Runtime

// The lifecycle commands: ArgumentParser's side of the grammar. Each builds
// an Invocation and hands it to `execute` (CommandBodies.swift), as FastPath
// does; option names come from OptionTable, which both parsers read.

/// A command of the shared grammar: what it parsed is an Invocation.
protocol InvocationCommand: ParsableCommand {
    var global: GlobalOptions { get }
    var invocation: Invocation { get }
}

extension InvocationCommand {
    func run() throws { try exitUnlessZero(execute(invocation, global.settings)) }
}

struct CreateCommand: InvocationCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a container; its process waits for `start`.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var flags: CreateFlags
    @Argument(help: "Container id.") var id: String

    var invocation: Invocation { .create(id: id, flags.options) }
}

struct StartCommand: InvocationCommand {
    static let configuration = CommandConfiguration(commandName: "start", abstract: "Start the process of a created container.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Container id.") var id: String

    var invocation: Invocation { .start(id: id) }
}

struct StateCommand: InvocationCommand {
    static let configuration = CommandConfiguration(commandName: "state", abstract: "Print a container's state as JSON.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Container id.") var id: String

    var invocation: Invocation { .state(id: id) }
}

struct KillCommand: InvocationCommand {
    static let configuration = CommandConfiguration(commandName: "kill", abstract: "Send a signal (default SIGTERM) to a container's process.")
    @OptionGroup var global: GlobalOptions
    @Flag(name: OptionTable.all.names, help: "Signal every process in the container's cgroup.") var all = false
    @Argument(help: "Container id.") var id: String
    @Argument(help: "Signal name (TERM, SIGTERM) or number.") var signal: String = "SIGTERM"

    var invocation: Invocation { .kill(id: id, signal: signal, all: all) }
}

struct DeleteCommand: InvocationCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete a container and everything vessel made for it.")
    @OptionGroup var global: GlobalOptions
    @Flag(name: OptionTable.force.names, help: "Kill the container first if it is running.") var force = false
    @Argument(help: "Container id.") var id: String

    var invocation: Invocation { .delete(id: id, force: force) }
}

struct RunCommand: InvocationCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Create and start a container, wait for it and delete it.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var flags: CreateFlags
    @Flag(name: OptionTable.detach.names, help: "Return once the container has started.") var detach = false
    @Flag(help: "Keep the container's state after it exits.") var keep = false
    @Argument(help: "Container id.") var id: String

    var invocation: Invocation { .run(id: id, flags.options, detach: detach, keep: keep) }
}

struct PauseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pause", abstract: "Freeze every process of a container (cgroup.freeze).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Container id.") var id: String

    func run() throws {
        try perform(global) { try lifecycle(global).setPaused(containerID(id), true) }
    }
}

struct ResumeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "resume", abstract: "Thaw a paused container.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Container id.") var id: String

    func run() throws {
        try perform(global) { try lifecycle(global).setPaused(containerID(id), false) }
    }
}
