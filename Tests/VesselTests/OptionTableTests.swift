import ArgumentParser
@testable import vessel
import XCTest

/// FastPath and ArgumentParser read the forms in OptionTable.fastForms into
/// the same GlobalSettings and Invocation, whichever spelling each option
/// takes, and FastPath declines what the table does not list.
final class OptionTableTests: XCTestCase {
    /// A value for each option that takes one.
    func value(for option: OptionName) -> String {
        option == OptionTable.logFormat ? "json" : "v-\(option.long)"
    }

    /// Every listed option of `command`, each spelled the `spelling`-th way
    /// it can be (long, then short where there is one), plus the arguments
    /// after the id.
    func argv(_ command: FastPath.Command, spelling: Int, globalsFirst: Bool) -> [String] {
        let form = OptionTable.fastForms[command] ?? OptionTable.Form(values: [], flags: [])
        func spelled(_ option: OptionName) -> String { option.spellings[min(spelling, option.spellings.count - 1)] }
        let globals = OptionTable.globals.values.flatMap { [spelled($0), value(for: $0)] } + OptionTable.globals.flags.map(spelled)
        let own = form.values.filter { $0 != OptionTable.process }.flatMap { [spelled($0), value(for: $0)] } + form.flags.map(spelled)
        let tail: [String]
        switch command {
        case .exec: tail = ["c1", "echo", "hi"]
        case .kill: tail = ["c1", "KILL"]
        default: tail = ["c1"]
        }
        return ["vessel"] + (globalsFirst ? globals + [command.rawValue] : [command.rawValue] + globals) + own + tail
    }

    func parsedByArgumentParser(_ argv: [String]) throws -> (GlobalSettings, Invocation) {
        let moved = GlobalArguments.movedAfterSubcommand(Array(argv.dropFirst()))
        let command = try XCTUnwrap(try Vessel.parseAsRoot(moved) as? InvocationCommand, "\(argv)")
        return (command.global.settings, command.invocation)
    }

    func testBothParsersReadEveryFastFormAlike() throws {
        for command in FastPath.Command.allCases {
            for spelling in 0..<2 {
                for globalsFirst in [true, false] {
                    let line = argv(command, spelling: spelling, globalsFirst: globalsFirst)
                    let fast = try XCTUnwrap(FastPath.parse(line), "the fast path declined \(line)")
                    let slow = try parsedByArgumentParser(line)
                    XCTAssertEqual(String(describing: fast.0), String(describing: slow.0), "\(line)")
                    XCTAssertEqual(String(describing: fast.1), String(describing: slow.1), "\(line)")
                }
            }
        }
    }

    func testExecWithAProcessFileMatches() throws {
        for spelling in ["--process", "-p"] {
            let line = ["vessel", "exec", spelling, "process.json", "-d", "c1"]
            let fast = try XCTUnwrap(FastPath.parse(line))
            XCTAssertEqual(String(describing: fast.1), String(describing: try parsedByArgumentParser(line).1))
        }
    }

    /// An option ArgumentParser knows but the table does not list for the
    /// fast path is left to ArgumentParser.
    func testUnlistedOptionsAreDeclined() {
        XCTAssertNil(FastPath.parse(["vessel", "create", "--no-pivot", "-b", "b", "c1"]))
        XCTAssertNil(FastPath.parse(["vessel", "kill", "--force", "c1"]), "delete's flag, not kill's")
        XCTAssertNil(FastPath.parse(["vessel", "--bundle", "b", "create", "c1"]), "a command's option before the command")
        XCTAssertNil(FastPath.parse(["vessel", "create", "-b", "b", "-b", "b", "c1"]), "repeated")
        XCTAssertNil(FastPath.parse(["vessel", "state", "--log-format", "yaml", "c1"]))
    }
}
