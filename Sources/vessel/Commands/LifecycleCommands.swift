import ArgumentParser
import FoundationEssentials
import Glibc
import OCI
import Runtime

struct CreateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a container; its process waits for `start`.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var flags: CreateFlags
    @Argument(help: "Container id.") var id: String

    func run() throws {
        try perform(global) {
            _ = try createContainer(global, containerID(id), flags)
        }
    }
}

struct StartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "start", abstract: "Start the process of a created container.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Container id.") var id: String

    func run() throws {
        try perform(global) { try lifecycle(global).start(containerID(id)) }
    }
}

struct StateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "state", abstract: "Print a container's state as JSON.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Container id.") var id: String

    func run() throws {
        try perform(global) { try printJSON(lifecycle(global).report(containerID(id))) }
    }
}

struct KillCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "kill", abstract: "Send a signal (default SIGTERM) to a container's process.")
    @OptionGroup var global: GlobalOptions
    @Flag(name: [.short, .long], help: "Signal every process in the container's cgroup.") var all = false
    @Argument(help: "Container id.") var id: String
    @Argument(help: "Signal name (TERM, SIGTERM) or number.") var signal: String = "SIGTERM"

    func run() throws {
        try perform(global) {
            guard let number = SignalName.parse(signal) else {
                throw RuntimeError.invalidArgument("unknown signal \(signal.debugDescription)")
            }
            try lifecycle(global).kill(containerID(id), signal: number, all: all)
        }
    }
}

struct DeleteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete a container and everything vessel made for it.")
    @OptionGroup var global: GlobalOptions
    @Flag(name: [.short, .long], help: "Kill the container first if it is running.") var force = false
    @Argument(help: "Container id.") var id: String

    func run() throws {
        try perform(global) {
            let id = try containerID(id)
            do {
                try lifecycle(global).delete(id, force: force)
            } catch RuntimeError.notFound where force {
                return
            }
        }
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
