import OSKit
import Glibc

// `vessel init`: the process the C shim execs inside the container's
// namespaces, for `create` (the container's init) and for `exec`. Its first
// message on the init socket says which, with all it needs.
public enum InitEntry {
    public static func run(_ channel: MessageChannel) -> Never {
        let command: InitCommand?
        do {
            command = try channel.receive(InitCommand.self)
        } catch {
            channel.send(InitEvent.failed(reason: "container init: \(error)"))
            exit(127)
        }
        switch command {
        case let .handoff(.create(context))?:
            ContainerInit(context: context, channel: channel).run()
        case let .handoff(.exec(plan))?:
            ExecInit(plan: plan, channel: channel).run()
        case .proceed?, nil:
            channel.send(InitEvent.failed(reason: "container init: the runtime sent no hand-off"))
            exit(127)
        }
    }
}
