import ArgumentParser
import Glibc
import GuestAgent
import Linux
import OSKit
import MicroVM
import Runtime

// `vessel init` is the container's init (or an exec'd process), re-executed
// by `create` (or `exec`) inside the new namespaces: it skips argument
// parsing and logging set-up, and reads its hand-off from the init socket.
if CommandLine.arguments.count == 2, CommandLine.arguments[1] == "init", let channel = InitSocket.inherited() {
    InitEntry.run(channel)
}
// state, start, kill and delete in their plain forms skip ArgumentParser.
FastPath.runIfRecognised(CommandLine.arguments)
// The microVM's PID 1: vessel is the initramfs's /init, which the kernel
// starts with no arguments.
if getpid() == 1, CommandLine.arguments.count <= 1 { GuestAgent().run() }
// The host side of a VM-mode container, and of a process exec'd into one:
// spawned by `create` and `exec`, not run by hand.
if CommandLine.arguments.count >= 3, CommandLine.arguments[1].hasPrefix("vm-"),
    let report = StartReport.inheritedFD()
{
    let arguments = CommandLine.arguments
    if arguments[1] == "vm-supervise", let supervisor = try? VMSupervisor(directory: arguments[2], reportFD: report) {
        // A pool VM's directory is its own, not a container's: it goes with it.
        if supervisor.isPoolVM { supervisor.onExit = { VMPool.removeEntry(arguments[2]) } }
        supervisor.run()
    }
    if arguments[1] == "vm-exec", arguments.count >= 5 {
        VMExecRelay(
            target: VMTarget(supervisorDirectory: arguments[2], id: arguments[3]), launch: .exec(processFile: arguments[4]),
            consoleSocket: arguments.count > 5 ? arguments[5] : nil, reportFD: report
        ).run()
    }
    if arguments[1] == "vm-member" {
        do {
            try VMExecRelay.member(directory: arguments[2], reportFD: report).run()
        } catch {
            StartReport.failed(reason: "vm: \(error)").send(on: report)
        }
    }
    exit(1)
}
let arguments = GlobalArguments.movedAfterSubcommand(GlobalArguments.forProgramName(Array(CommandLine.arguments.dropFirst())))
// runc's -v (ArgumentParser knows only --version), wherever the global flags are.
if arguments.first == "-v" {
    print(Vessel.versionText)
    exit(0)
}
// runc's `help [command]`, and its status 3 for a command it does not know.
if let first = arguments.first, !first.hasPrefix("-") {
    let commands = Vessel.configuration.subcommands
    func command(named name: String) -> ParsableCommand.Type? { commands.first { $0.configuration.commandName == name } }
    if first == "help" {
        guard let topic = GlobalArguments.withoutGlobals(Array(arguments.dropFirst())).first else {
            print(Vessel.helpMessage())
            exit(0)
        }
        guard let type = command(named: topic) else {
            TextOutput.standardError("vessel: no help topic for \(topic.debugDescription)\n")
            exit(3)
        }
        print(Vessel.helpMessage(for: type))
        exit(0)
    }
    if command(named: first) == nil {
        TextOutput.standardError("vessel: unknown command \(first.debugDescription) (see vessel help)\n")
        exit(3)
    }
}
// runc exits 1 on a command-line error; ArgumentParser's usage errors are
// 64 (EX_USAGE): the same message, runc's status. Help and version stay 0.
do {
    var command = try Vessel.parseAsRoot(arguments)
    try command.run()
} catch let status as ExitCode {
    // A command's own status (a container's exit code may well be 64).
    Vessel.exit(withError: status)
} catch {
    let code = Vessel.exitCode(for: error)
    guard code.rawValue == 64 else { Vessel.exit(withError: error) }
    TextOutput.standardError(Vessel.fullMessage(for: error) + "\n")
    exit(1)
}
