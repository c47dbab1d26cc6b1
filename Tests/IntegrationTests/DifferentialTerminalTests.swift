import XCTest

/// process.terminal: the pty master over --console-socket, and without one.
final class DifferentialTerminalTests: XCTestCase {
    static func terminal(_ spec: inout [String: Any], _ box: DiffSandbox) { spec.setProcess("terminal", true) }

    /// Where fds 0 to 2 point (the pty's number as N), and the pty's uid and gid.
    static let ptyOwner = "for n in 0 1 2; do l=$(readlink /proc/$$/fd/$n); echo ${l%/*}; done; stat -c %u:%g $(tty)"

    static let sizedProcess = """
        {"terminal": true, "consoleSize": {"height": 10, "width": 110}, "args": ["/bin/sh", "-c", "stty size"], "cwd": "/"}
        """

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
            // runc's tty.bats: stdio on the pty, and who owns it (devpts's gid=5 for the group).
            DiffScenario(
                "terminal: stdio on the pty and its owner", script: ptyOwner, config: terminal,
                steps: [.console("run -d --console-socket {sock} -b {bundle} {id}"), .tty, .wait("stopped"), .cmd("delete {id}")]),
            DiffScenario(
                "terminal: the pty's owner for uid 1000, gid 100", script: ptyOwner,
                config: { spec, box in
                    terminal(&spec, box)
                    spec.setProcess("user", ["uid": 1000, "gid": 100])
                }, steps: [.console("run -d --console-socket {sock} -b {bundle} {id}"), .tty, .wait("stopped"), .cmd("delete {id}")]),
            DiffScenario(
                "exec -t: the pty's owner for the config's uid 1000, gid 100", script: "sleep 30",
                config: { spec, _ in spec.setProcess("user", ["uid": 1000, "gid": 100]) },
                steps: [.runDetached, .console("exec -t -d --console-socket {sock} {id} sh -c '\(ptyOwner)'"), .tty, .forceDelete]),
            DiffScenario(
                "exec -t: consoleSize of process.json", script: "sleep 30", files: ["process.json": sizedProcess],
                steps: [.runDetached, .console("exec -t -d --console-socket {sock} -p {host}/process.json {id}"), .tty, .forceDelete]),
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
