import Glibc
import Linux

// `vessel init` is the container's init, re-executed by `create` inside the
// new namespaces: it skips argument parsing and logging set-up entirely.
if CommandLine.arguments.count == 2, CommandLine.arguments[1] == "init" {
    if let json = getenv(ExecPlan.environmentName).map({ String(cString: $0) }),
       let socket = getenv("_VESSEL_SOCKET").flatMap({ Int32(String(cString: $0)) }),
       let exec = ExecInit(environment: json, socketFD: socket,
                           consoleFD: getenv("_VESSEL_CONSOLE").flatMap { Int32(String(cString: $0)) } ?? -1,
                           mountNamespaceFD: getenv("_VESSEL_MNTNS").flatMap { Int32(String(cString: $0)) } ?? -1) {
        exec.run()
    }
    if let context = InitContext.fromEnvironment() { ContainerInit(context: context).run() }
}
// state, start, kill and delete in their plain forms skip ArgumentParser.
FastPath.runIfRecognised(CommandLine.arguments)
Vessel.main(GlobalArguments.movedAfterSubcommand(Array(CommandLine.arguments.dropFirst())))
