import CVessel
import Errors
import OSKit
import Glibc

// The process that sets up a container (its init, or an exec'd process)
// inside the container's namespaces, entered one of two ways (see
// InitLaunch): `vessel init`, re-executed by the C shim, whose first message
// on the init socket is its hand-off; or a child cloned in place, which
// already holds its hand-off and waits for the go-ahead.
public enum InitEntry {
    /// `vessel init`.
    public static func run(_ channel: MessageChannel) -> Never {
        let command: InitCommand?
        do {
            command = try channel.receive(InitCommand.self)
        } catch {
            fail(channel, "container init: \(error)")
        }
        switch command {
        case let .handoff(handoff)? where !handoff.isGoAhead:
            start(handoff, channel: channel, trampoline: nil)
        default:
            fail(channel, "container init: the runtime sent no hand-off")
        }
    }

    /// The in-place child of vessel_spawn, which the C shim returns from
    /// once the runtime's go-ahead (InitCommand.goAheadFrame, after id
    /// mappings and cgroup membership) has arrived.
    public static func continueInPlace(_ handoff: InitHandoff, channel: MessageChannel, trampoline: ExecTrampoline) -> Never {
        // What `ps` showed for the re-executed init, rather than the CLI's command line.
        let title = "vessel\u{0}init"
        vessel_set_title(CommandLine.unsafeArgv, CommandLine.argc, title, Int32(title.utf8.count))
        do {
            start(try withAgentState(handoff, channel), channel: channel, trampoline: trampoline)
        } catch {
            fail(channel, "container init: \(error)")
        }
    }

    /// A seccomp agent's state names the init's pid, which the runtime knows
    /// only after the clone: in place, it follows the go-ahead.
    private static func withAgentState(_ handoff: InitHandoff, _ channel: MessageChannel) throws -> InitHandoff {
        guard case var .create(context) = handoff, context.seccompAgent != nil else { return handoff }
        guard case let .agentState(state)? = try channel.receive(InitCommand.self) else {
            throw VesselError.initFailed("the runtime sent no state for the seccomp agent (linux.seccomp.listenerPath)")
        }
        context.seccompAgent?.state = state
        return .create(context)
    }

    private static func start(_ handoff: InitHandoff, channel: MessageChannel, trampoline: ExecTrampoline?) -> Never {
        switch handoff {
        case let .create(context):
            ContainerInit(context: context, channel: channel, trampoline: trampoline).run()
        case let .exec(plan):
            ExecInit(plan: plan, channel: channel, trampoline: trampoline).run()
        case .inPlace:
            fail(channel, "container init: a go-ahead is no hand-off")
        }
    }

    /// _exit, not exit: an in-place child must not flush the runtime's stdio buffers again.
    static func fail(_ channel: MessageChannel, _ reason: String) -> Never {
        channel.send(InitEvent.failed(reason: reason))
        _exit(127)
    }
}

extension InitHandoff {
    var isGoAhead: Bool {
        if case .inPlace = self { return true }
        return false
    }
}
