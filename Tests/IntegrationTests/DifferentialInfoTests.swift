import XCTest

/// spec, features, --version, --help, update, and --log as engines use them.
final class DifferentialInfoTests: XCTestCase {
    static let resources = #"{"pids": {"limit": 20}}"#

    static var scenarios: [DiffScenario] {
        [
            DiffScenario("spec: the default config.json", steps: [.cmd("spec -b {host}"), .host("cat {host}/config.json", .json)]),
            DiffScenario("spec --rootless", steps: [.cmd("spec --rootless -b {host}"), .host("cat {host}/config.json", .json)]),
            DiffScenario("spec: a config.json already there", steps: [.cmd("spec -b {bundle}")]),
            DiffScenario("spec: a bundle directory that does not exist", steps: [.cmd("spec -b {host}/absent")]),
            DiffScenario("features: the document's shape", steps: [.cmd("features", .jsonShape)]),
            DiffScenario("--version", steps: [.cmd("--version", .version)]),
            DiffScenario("-v", steps: [.cmd("-v", .version)]),
            DiffScenario("--help", steps: [.cmd("--help", .helpCommands), .cmd("-h", .helpCommands)]),
            DiffScenario("help: the help command", steps: [.cmd("help", .helpCommands)]),
            DiffScenario("help: of each command", steps: DifferentialRunner.runcCommands.map { DiffStep.cmd($0 + " --help") }),
            DiffScenario(
                "update: -r with a file", script: "sleep 30", files: ["resources.json": resources],
                steps: [.runDetached, .cmd("update -r {host}/resources.json {id}"), .forceDelete]),
            DiffScenario(
                "update: --resources from stdin", script: "sleep 30",
                steps: [.runDetached, .cmd("update --resources - {id}", stdin: resources), .forceDelete]),
            DiffScenario(
                "update: an empty resources document", script: "sleep 30", files: ["empty.json": "{}"],
                steps: [.runDetached, .cmd("update -r {host}/empty.json {id}"), .stateIt, .forceDelete]),
            DiffScenario(
                "update: a malformed resources document", script: "sleep 30", files: ["bad.json": "{\"pids\": "],
                steps: [.runDetached, .cmd("update -r {host}/bad.json {id}"), .forceDelete]),
            DiffScenario(
                "update: flags on a controller this host lacks", script: "sleep 30",
                steps: [.runDetached, .cmd("update --pids-limit 20 {id}"), .cmd("update --memory 100000000 {id}"), .forceDelete]),
            DiffScenario(
                "update: a stopped container", script: "true", files: ["empty.json": "{}"],
                steps: [.runDetached, .wait("stopped"), .cmd("update -r {host}/empty.json {id}"), .cmd("delete {id}")]),
            DiffScenario(
                "--log --log-format json: an error's record",
                steps: [
                    .cmd("--log {host}/log.json --log-format json state {id}"),
                    .host("sed 's/\"time\":\"[^\"]*\"/\"time\":\"T\"/; s/\"msg\":\"[^\"]*\"/\"msg\":\"M\"/' {host}/log.json | tr ',' '\\n' | cut -d: -f1 | sort"),
                ]),
            DiffScenario(
                "--log: text format",
                steps: [
                    .cmd("--log {host}/log.txt state {id}"),
                    .host("sed 's/msg=.*/msg=M/; s/time=\"[^\"]*\"/time=T/' {host}/log.txt"),
                ]),
            DiffScenario("--log-format: an unknown format", steps: [.cmd("--log-format yaml list")]),
            DiffScenario("--debug: still succeeds", script: "echo debug run", steps: [.cmd("--debug run -b {bundle} {id}")]),
        ]
    }

    func testScenarios() throws { try DifferentialRunner.run(Self.scenarios) }
}
