import XCTest

/// process.terminal: the pty master over --console-socket, and without one.
final class DifferentialTerminalTests: XCTestCase {
    static func terminal(_ spec: inout [String: Any], _ box: DiffSandbox) { spec.setProcess("terminal", true) }

    static var scenarios: [DiffScenario] {
        [
            DiffScenario(
                "terminal: run -d with a console socket", script: "tty; echo on the tty", config: terminal,
                steps: [.console("run -d --console-socket {sock} -b {bundle} {id}"), .tty, .wait("stopped"), .cmd("delete {id}")]),
            DiffScenario(
                "terminal: consoleSize", script: "stty size",
                config: { spec, box in
                    terminal(&spec, box)
                    spec.setProcess("consoleSize", ["height": 30, "width": 100])
                }, steps: [.console("run -d --console-socket {sock} -b {bundle} {id}"), .tty, .wait("stopped"), .cmd("delete {id}")]),
            DiffScenario(
                "terminal: create and start with a console socket", script: "tty", config: terminal,
                steps: [
                    .console("create --console-socket {sock} -b {bundle} {id}"), .cmd("start {id}"), .tty,
                    .wait("stopped"), .cmd("delete {id}"),
                ]),
            DiffScenario(
                "terminal: create without a console socket", script: "tty", config: terminal,
                steps: [.createIt, .stateIt]),
            DiffScenario(
                "terminal: run -d without a console socket", script: "tty", config: terminal,
                steps: [.runDetached, .stateIt]),
            DiffScenario(
                "terminal: run in the foreground without a console socket", script: "tty; echo hi", config: terminal,
                steps: [.exact("run -b {bundle} {id}")]),
            DiffScenario(
                "terminal: a console socket that nobody listens on", script: "tty", config: terminal,
                steps: [.cmd("run -d --console-socket {host}/nobody.sock -b {bundle} {id}"), .stateIt]),
            DiffScenario(
                "terminal: a console socket without a terminal", script: "echo plain > /tmp/plain",
                steps: [.console("run -d --console-socket {sock} -b {bundle} {id}"), .tty, .wait("stopped"), .cmd("delete {id}")]),
        ]
    }

    func testScenarios() throws { try DifferentialRunner.run(Self.scenarios) }
}
