// Engines write global flags before the subcommand (`vessel --root R
// create id`); ArgumentParser reads a subcommand's options after its name,
// so move them there.
enum GlobalArguments {
    static let withValue = Set(OptionTable.globals.values.map { "--" + $0.long })
        .union(["--criu", "--vm-accel", "--vm-kernel", "--vm-qemu", "--vm-boot-timeout"])
    static let flags = Set(OptionTable.globals.flags.map { "--" + $0.long }).union(["--systemd-cgroup", "--vm"])
    /// Commands with subcommands, and the length of a full command path.
    static let groups: [String: Int] = ["vm": 3]

    /// Invoked as vessel-vm (a symlink), vessel is always in VM mode.
    static func forProgramName(_ arguments: [String]) -> [String] {
        let name = CommandLine.arguments.first?.split(separator: "/").last ?? ""
        return name == "vessel-vm" ? ["--vm"] + arguments : arguments
    }

    static func movedAfterSubcommand(_ arguments: [String]) -> [String] {
        var globals: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            let name = String(argument.prefix { $0 != "=" })
            if withValue.contains(name) {
                globals.append(argument)
                if !argument.contains("="), index + 1 < arguments.count {
                    globals.append(arguments[index + 1])
                    index += 1
                }
            } else if flags.contains(argument) {
                globals.append(argument)
            } else {
                break
            }
            index += 1
        }
        guard index < arguments.count else { return arguments }
        // A command group's flags go after its whole path (vm template build).
        var end = index + 1
        if let depth = groups[arguments[index]] {
            while end < min(arguments.count, index + depth), !arguments[end].hasPrefix("-") { end += 1 }
        }
        return Array(arguments[index..<end]) + globals + arguments[end...]
    }

    /// `arguments` with the global flags (and their values) taken out.
    static func withoutGlobals(_ arguments: [String]) -> [String] {
        var rest: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            let name = String(argument.prefix { $0 != "=" })
            if withValue.contains(name) {
                if !argument.contains("=") { index += 1 }
            } else if !flags.contains(argument) {
                rest.append(argument)
            }
            index += 1
        }
        return rest
    }
}
