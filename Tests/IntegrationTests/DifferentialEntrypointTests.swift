import XCTest

/// A process that cannot be executed: missing, not executable, a
/// directory, a script whose interpreter is missing; through run, create
/// and exec. Exit codes and what is left are what scripts see.
final class DifferentialEntrypointTests: XCTestCase {
    /// A script in /tmp (the scratch directory) whose interpreter does not exist.
    static let orphanScript = DiffStep.host("printf '#!/no/such/shell\\necho hi\\n' > {out}/orphan && chmod 755 {out}/orphan", .ignore)

    static func running(_ name: String, _ args: [String], detached: Bool = false, setUp: [DiffStep] = []) -> DiffScenario {
        DiffScenario(
            name, config: { spec, _ in spec.setProcess("args", args) },
            steps: setUp + [detached ? .cmd("run -d -b {bundle} {id}") : .exact("run -b {bundle} {id}"), .stateIt])
    }

    static var scenarios: [DiffScenario] {
        [
            running("run: a program not in PATH", ["no-such-program"]),
            running("run: an absolute program that does not exist", ["/bin/no-such-program"]),
            running("run: a file that is not executable", ["/etc/passwd"]),
            running("run: a directory as the program", ["/etc"]),
            running("run: a script whose interpreter is missing", ["/tmp/orphan"], setUp: [orphanScript]),
            running("run -d: a program not in PATH", ["no-such-program"], detached: true),
            running("run -d: a file that is not executable", ["/etc/passwd"], detached: true),
            DiffScenario(
                "create: a file that is not executable", config: { spec, _ in spec.setProcess("args", ["/etc/passwd"]) },
                steps: [.createIt, .stateIt]),
            DifferentialExecTests.inSleeper("exec: a file that is not executable", [.exact("exec {id} /etc/passwd"), .stateIt]),
            DifferentialExecTests.inSleeper("exec: an absolute program that does not exist", [.exact("exec {id} /bin/no-such-program")]),
            DifferentialExecTests.inSleeper("exec: a directory as the program", [.exact("exec {id} /etc")]),
            DifferentialExecTests.inSleeper("exec: a script whose interpreter is missing", [orphanScript, .exact("exec {id} /tmp/orphan")]),
            DifferentialExecTests.inSleeper(
                "exec: the PATH given with -e decides the lookup",
                [
                    .exact("exec -e PATH=/nowhere {id} echo hi"), .exact("exec -e PATH=/bin {id} echo hi"),
                ]),
            DifferentialExecTests.inSleeper("exec -d: a program not in PATH", [.exact("exec -d {id} no-such-program")]),
        ]
    }

    func testScenarios() throws { try DifferentialRunner.run(Self.scenarios) }
}
