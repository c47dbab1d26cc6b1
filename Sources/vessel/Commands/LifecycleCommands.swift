import ArgumentParser
import Runtime

// The lifecycle commands: ArgumentParser's side of the grammar. Each builds
// an Invocation and hands it to `execute` (CommandBodies.swift), as FastPath does.

struct CreateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a container; its process waits for `start`.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var flags: CreateFlags
    @Argument(help: "Container id.") var id: String

    func run() throws { try exitUnlessZero(execute(.create(id: id, flags.options), global.settings)) }
}

struct StartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "start", abstract: "Start the process of a created container.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Container id.") var id: String

    func run() throws { try exitUnlessZero(execute(.start(id: id), global.settings)) }
}

struct StateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "state", abstract: "Print a container's state as JSON.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Container id.") var id: String

    func run() throws { try exitUnlessZero(execute(.state(id: id), global.settings)) }
}

struct KillCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "kill", abstract: "Send a signal (default SIGTERM) to a container's process.")
    @OptionGroup var global: GlobalOptions
    @Flag(name: [.short, .long], help: "Signal every process in the container's cgroup.") var all = false
    @Argument(help: "Container id.") var id: String
    @Argument(help: "Signal name (TERM, SIGTERM) or number.") var signal: String = "SIGTERM"

    func run() throws { try exitUnlessZero(execute(.kill(id: id, signal: signal, all: all), global.settings)) }
}

struct DeleteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete a container and everything vessel made for it.")
    @OptionGroup var global: GlobalOptions
    @Flag(name: [.short, .long], help: "Kill the container first if it is running.") var force = false
    @Argument(help: "Container id.") var id: String

    func run() throws { try exitUnlessZero(execute(.delete(id: id, force: force), global.settings)) }
}

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Create and start a container, wait for it and delete it.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var flags: CreateFlags
    @Flag(name: [.short, .long], help: "Return once the container has started.") var detach = false
    @Flag(help: "Keep the container's state after it exits.") var keep = false
    @Argument(help: "Container id.") var id: String

    func run() throws {
        try exitUnlessZero(execute(.run(id: id, flags.options, detach: detach, keep: keep), global.settings))
    }
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
