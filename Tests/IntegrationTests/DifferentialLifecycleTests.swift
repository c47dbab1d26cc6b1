import XCTest

/// create, start, run (foreground, -d, --keep), delete: runc against vessel.
final class DifferentialLifecycleTests: XCTestCase {
    static let scenarios: [DiffScenario] = [
        DiffScenario("run in the foreground passes output and exit code", script: "echo out; echo err >&2; exit 3",
                     steps: [.exact("run -b {bundle} {id}")]),
        DiffScenario("create, start, state at each step, delete", script: "echo started > /tmp/started; sleep 10",
                     steps: [.createIt, .stateIt, .cmd("start {id}"), .wait("running"), .stateIt,
                             .cmd("kill {id} KILL"), .wait("stopped"), .stateIt, .cmd("delete {id}"), .stateIt]),
    ]

    func testScenarios() throws { try DifferentialRunner.run(Self.scenarios) }
}
