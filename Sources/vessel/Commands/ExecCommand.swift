import ArgumentParser
import Runtime

struct ExecCommand: InvocationCommand {
    static let configuration = CommandConfiguration(commandName: "exec", abstract: "Run a process inside a running container.")
    @OptionGroup var global: GlobalOptions
    @Option(name: OptionTable.process.names, help: "A process.json (runtime-spec process object).") var process: String?
    @Flag(name: [.short, .customLong("tty")], help: "Give the process a terminal (vessel relays it, or sends it to --console-socket).") var tty = false
    @Option(name: OptionTable.consoleSocket.names, help: "Unix socket that receives the pty master.") var consoleSocket: String?
    @Flag(name: OptionTable.detach.names, help: "Return once the process has started.") var detach = false
    @Option(name: OptionTable.pidFile.names, help: "Write the process's pid to this file.") var pidFile: String?
    @Option(help: "Working directory inside the container.") var cwd: String?
    @Option(name: [.short, .customLong("env")], help: "KEY=value to add to the environment.") var env: [String] = []
    @Option(name: [.short, .customLong("user")], help: "uid[:gid]") var user: String?
    @Option(name: [.customShort("g"), .customLong("additional-gids")], help: "An additional group id.") var additionalGids: [UInt32] = []
    @Option(name: [.short, .customLong("cap")], help: "A capability to add.") var cap: [String] = []
    @Flag(name: .customLong("no-new-privs"), help: "Set no_new_privs.") var noNewPrivs = false
    @Option(name: .customLong("preserve-fds"), help: "Pass this many extra file descriptors (from fd 3).") var preserveFDs: Int = 0
    @Flag(name: .customLong("ignore-paused"), help: "Allow exec in a paused container.") var ignorePaused = false
    @Option(name: .customLong("cgroup"), help: "Run the process in this existing sub-cgroup of the container's.") var cgroup: [String] = []
    @Option(name: .customLong("exec-wait-fifo"), help: "A fifo: the process starts its program once someone opens the fifo's read end.") var execWaitFifo: String?
    @Argument(help: "Container id.") var id: String
    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments.") var command: [String] = []

    var invocation: Invocation {
        var options = ExecOptions()
        options.processFile = process
        options.arguments = command.first == "--" ? Array(command.dropFirst()) : command
        options.terminal = tty
        options.consoleSocket = consoleSocket
        options.cwd = cwd
        options.env = env
        options.user = user
        options.additionalGids = additionalGids
        options.capabilities = cap
        options.noNewPrivileges = noNewPrivs
        options.preserveFDs = max(0, preserveFDs)
        options.pidFile = pidFile
        options.ignorePaused = ignorePaused
        options.cgroups = cgroup
        options.execWaitFifo = execWaitFifo
        return .exec(id: id, options, detach: detach)
    }
}
