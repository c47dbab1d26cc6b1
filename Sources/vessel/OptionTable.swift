import ArgumentParser

// The options both parsers read, named once. ArgumentParser's declarations
// take their names from here, and FastPath accepts, for each command,
// exactly the options `fastForms` lists, under the same spellings. A new
// option is added here and to ArgumentParser's command; the fast path takes
// it only once it is listed in `fastForms`, and CommandLineTableTests then
// checks that both parsers read every listed form into the same Invocation.

/// An option as the command line spells it: `--long`, and `-s` if it has one.
struct OptionName: Hashable, Sendable {
    let long: String
    let short: Character?

    init(_ long: String, short: Character? = nil) {
        self.long = long
        self.short = short
    }

    var spellings: [String] { ["--" + long] + (short.map { ["-" + String($0)] } ?? []) }

    /// The same names for ArgumentParser.
    var names: NameSpecification {
        guard let short else { return [.customLong(long)] }
        return [.customShort(short), .customLong(long)]
    }
}

enum OptionTable {
    // Global, before or after the subcommand.
    static let root = OptionName("root")
    static let log = OptionName("log")
    static let logFormat = OptionName("log-format")
    static let debug = OptionName("debug")
    // create and run
    static let bundle = OptionName("bundle", short: "b")
    static let pidFile = OptionName("pid-file")
    static let consoleSocket = OptionName("console-socket")
    static let detach = OptionName("detach", short: "d")
    // exec
    static let process = OptionName("process", short: "p")
    // kill, delete
    static let all = OptionName("all", short: "a")
    static let force = OptionName("force", short: "f")

    /// Options with a value, and flags, that FastPath takes.
    struct Form {
        let values: [OptionName]
        let flags: [OptionName]
    }

    static let globals = Form(values: [root, log, logFormat], flags: [debug])

    /// The forms engines call most; anything else goes to ArgumentParser.
    static let fastForms: [FastPath.Command: Form] = [
        .state: Form(values: [], flags: []),
        .start: Form(values: [], flags: []),
        .kill: Form(values: [], flags: [all]),
        .delete: Form(values: [], flags: [force]),
        .create: Form(values: [bundle, pidFile, consoleSocket], flags: []),
        .run: Form(values: [bundle, pidFile, consoleSocket], flags: [detach]),
        .exec: Form(values: [pidFile, process], flags: [detach]),
    ]

    /// What FastPath accepts at this point: the globals, and the command's
    /// own options once the command is known.
    static func accepted(after command: FastPath.Command?) -> Form {
        guard let command, let form = fastForms[command] else { return globals }
        return Form(values: globals.values + form.values, flags: globals.flags + form.flags)
    }
}
