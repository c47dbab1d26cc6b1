import XCTest

/// OCI hooks: order, the state each sees, env, cwd, failures, timeouts.
/// Hooks write into {out}, the host side of the container's /tmp, so what
/// they did is compared with the container's files.
final class DifferentialHooksTests: XCTestCase {
    /// Logs "<name> <status>" and the keys of the state it was given.
    static let logger = """
        #!/bin/sh
        state=$(cat)
        status=$(printf '%s' "$state" | tr -d ' \\n' | sed -n 's/.*"status":"\\([a-z]*\\)".*/\\1/p')
        keys=$(printf '%s' "$state" | tr -d ' \\n' | grep -o '"[a-zA-Z]*":' | tr -d '":' | sort -u | tr '\\n' ' ')
        echo "$1 $status $keys" >> {out}/hooks.log
        """

    /// Whether the hook runs in the bundle (the caller's directory differs by machine).
    static let whereAmI = "[ \"$(pwd)\" = {bundle} ] && echo bundle > {out}/cwd-$1 || echo elsewhere > {out}/cwd-$1\n"
    static let envDumper = "#!/bin/sh\ncat > /dev/null\nenv | grep -v ^PWD= | sort > {out}/env-$1\necho \"$0 $*\" > {out}/args-$1\n" + whereAmI
    /// The caller's environment differs by machine: only whether a variable of it arrived.
    static let markerDumper = "#!/bin/sh\ncat > /dev/null\necho \"DIFF_MARKER=${DIFF_MARKER-unset}\" > {out}/env-$1\n" + whereAmI
    static let failing = "#!/bin/sh\ncat > /dev/null\necho \"$1 ran\" >> {out}/hooks.log\necho hook says no >&2\nexit 3\n"
    static let slow = "#!/bin/sh\ncat > /dev/null\nsleep 3\n"

    static func hook(_ box: DiffSandbox, _ script: String, _ name: String, extra: [String: Any] = [:]) -> [String: Any] {
        ["path": box.host + "/" + script, "args": [script, name]].merging(extra) { $1 }
    }

    static let hookFiles = ["log.sh": logger, "env.sh": envDumper, "marker.sh": markerDumper, "fail.sh": failing, "slow.sh": slow]

    static func hooked(
        _ name: String, script: String = "true", _ hooks: @escaping (DiffSandbox) -> [String: [[String: Any]]],
        steps: [DiffStep] = [.exact("run -b {bundle} {id}")]
    ) -> DiffScenario {
        DiffScenario(name, script: script, files: hookFiles, config: { spec, box in spec.setHooks(hooks(box)) }, steps: steps)
    }

    static var scenarios: [DiffScenario] {
        [
            hooked(
                "hooks: order and the state each gets", script: "echo container >> /tmp/hooks.log",
                { box in
                    [
                        "prestart": [hook(box, "log.sh", "prestart")], "createRuntime": [hook(box, "log.sh", "createRuntime")],
                        "createContainer": [hook(box, "log.sh", "createContainer")],
                        "startContainer": [["path": "/bin/sh", "args": ["sh", "-c", "cat > /dev/null; echo startContainer >> /tmp/hooks.log"]]],
                        "poststart": [hook(box, "log.sh", "poststart")], "poststop": [hook(box, "log.sh", "poststop")],
                    ]
                }),
            hooked(
                "hooks: order through create, start, kill, delete", script: "sleep 30",
                { box in
                    [
                        "prestart": [hook(box, "log.sh", "prestart")], "poststart": [hook(box, "log.sh", "poststart")],
                        "poststop": [hook(box, "log.sh", "poststop")],
                    ]
                },
                steps: [
                    .createIt, .host("cat {out}/hooks.log"), .cmd("start {id}"), .host("cat {out}/hooks.log"),
                    .cmd("kill {id} KILL"), .wait("stopped"), .host("cat {out}/hooks.log"), .cmd("delete {id}"),
                ]),
            hooked("hooks: env when the hook has none", { box in ["prestart": [hook(box, "marker.sh", "prestart")]] }),
            hooked(
                "hooks: env, args and cwd as given",
                { box in
                    [
                        "poststart": [
                            hook(
                                box, "env.sh", "poststart",
                                extra: [
                                    "env": ["ONLY=this", "PATH=/usr/bin:/bin"],
                                    "args": ["env.sh", "poststart", "extra arg"],
                                ])
                        ]
                    ]
                }),
            hooked("hooks: a failing prestart hook", { box in ["prestart": [hook(box, "fail.sh", "prestart"), hook(box, "log.sh", "after")]] }),
            hooked("hooks: a failing createRuntime hook", { box in ["createRuntime": [hook(box, "fail.sh", "createRuntime")]] }),
            hooked("hooks: a failing createContainer hook", { box in ["createContainer": [hook(box, "fail.sh", "createContainer")]] }),
            // Inside the container: what it prints is the runtime's init's report, not the hook's.
            hooked(
                "hooks: a failing startContainer hook", { _ in ["startContainer": [["path": "/bin/false"]]] },
                steps: [.cmd("run -b {bundle} {id}")]),
            hooked(
                "hooks: a failing startContainer hook, then start", { _ in ["startContainer": [["path": "/bin/false"]]] },
                steps: [.createIt, .cmd("start {id}"), .forceDelete]),
            hooked(
                "hooks: a failing poststart hook", script: "sleep 30", { box in ["poststart": [hook(box, "fail.sh", "poststart")]] },
                steps: [.runDetached, .stateIt, .forceDelete]),
            hooked(
                "hooks: a failing poststop hook", { box in ["poststop": [hook(box, "fail.sh", "poststop"), hook(box, "log.sh", "after")]] },
                steps: [.runDetached, .wait("stopped"), .cmd("delete {id}"), .stateIt]),
            hooked("hooks: a hook past its timeout", { box in ["prestart": [hook(box, "slow.sh", "prestart", extra: ["timeout": 1])]] }),
            hooked("hooks: a hook that does not exist", { box in ["prestart": [["path": box.host + "/absent.sh"]]] }),
            hooked("hooks: a relative hook path", { _ in ["prestart": [["path": "log.sh"]]] }),
        ]
    }

    func testScenarios() throws { try DifferentialRunner.run(Self.scenarios) }
}
