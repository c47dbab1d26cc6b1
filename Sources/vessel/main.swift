import Linux

// `vessel init` is the container's init, re-executed by `create` inside the
// new namespaces: it skips argument parsing and logging set-up entirely.
if CommandLine.arguments.count == 2, CommandLine.arguments[1] == "init", let context = InitContext.fromEnvironment() {
    ContainerInit(context: context).run()
}
Vessel.main(GlobalArguments.movedAfterSubcommand(Array(CommandLine.arguments.dropFirst())))
