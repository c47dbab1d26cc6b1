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
        var index = 0
        while index < arguments.count {
            let span = globalSpan(at: index, in: arguments)
            guard span > 0 else { break }
            index += span
        }
        guard index < arguments.count else { return arguments }
        // A command group's flags go after its whole path (vm template build).
        var end = index + 1
        if let depth = groups[arguments[index]] {
            while end < min(arguments.count, index + depth), !arguments[end].hasPrefix("-") { end += 1 }
        }
        return Array(arguments[index..<end]) + arguments[..<index] + arguments[end...]
    }

    /// `arguments` with the global flags (and their values) taken out.
    static func withoutGlobals(_ arguments: [String]) -> [String] {
        var rest: [String] = []
        var index = 0
        while index < arguments.count {
            let span = globalSpan(at: index, in: arguments)
            if span == 0 { rest.append(arguments[index]) }
            index += max(span, 1)
        }
        return rest
    }

    /// How many arguments the global flag at `index` spans, its value
    /// included (`--root R`: 2, `--root=R` or `--debug`: 1); 0 where none starts.
    static func globalSpan(at index: Int, in arguments: [String]) -> Int {
        let argument = arguments[index]
        if withValue.contains(String(argument.prefix { $0 != "=" })) {
            return argument.contains("=") || index + 1 == arguments.count ? 1 : 2
        }
        return flags.contains(argument) ? 1 : 0
    }
}
