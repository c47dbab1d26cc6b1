import Foundation
import XCTest

// The differential layer: each scenario is a value (a config change, some
// host files, a list of steps) run once through runc and once through
// vessel, each with its own --root, bundle and scratch directory. What a
// script or an engine could observe is turned into one transcript line per
// step, plus the files the container wrote and what was left on the host;
// the two transcripts must match, or the scenario must be listed in
// DifferentialKnownDifferences with vessel's lines.
//
// DIFF_SCENARIO=<name> runs one scenario; DIFF_VERBOSE=1 prints both
// transcripts; DIFF_RAW=1 prints each runtime command's raw output.

/// One runtime under comparison.
struct DiffRuntime {
    let name: String
    let binary: String

    static let vessel = DiffRuntime(name: "vessel", binary: Harness.vesselBinary)

    /// runc from RUNC_BINARY or the usual places; nil where it is not installed.
    static let runc: DiffRuntime? = {
        let candidates = [ProcessInfo.processInfo.environment["RUNC_BINARY"], "/usr/sbin/runc", "/usr/bin/runc", "/usr/local/sbin/runc"]
        return candidates.compactMap { $0 }.first { FileManager.default.isExecutableFile(atPath: $0) }
            .map { DiffRuntime(name: "runc", binary: $0) }
    }()
}

/// What a step's observation keeps.
enum DiffCheck {
    /// Whether it failed, the exit code, and whether a failure said why.
    case outcome
    /// The exit code and the exact bytes of stdout and stderr, after
    /// normalisation; the runtime's own error lines count as one `<error>`.
    case exact
    /// `state`: keys, value types, and the values a script branches on.
    case state
    /// `list --format json`: each element as `state` is observed.
    case listJSON
    /// One field of a JSON object, as JSON.
    case field(String)
    /// Tables (`list`, `ps`): whitespace-separated tokens, digits as `#`.
    case table
    /// A JSON document's keys and value types (arrays by their elements).
    case jsonShape
    /// A JSON document's values, with runtime names, paths and ociVersion normalised.
    case json
    /// `--version`: the first line's form and which of `commit:`/`spec:` follow.
    case version
    /// `--help`: which of runc's commands the help lists.
    case helpCommands
    /// `.outcome`, and for a failure whether it was refused as a usage
    /// error (a flag or value the parser did not take) or by the runtime
    /// after parsing: a flag one runtime lacks shows, even where both fail.
    case refusal
    /// Run, observe nothing (set-up whose output is not the point).
    case ignore
}

struct DiffStep {
    enum Action {
        /// The runtime with `--root` and these arguments.
        case runtime([String])
        /// `sh -c` on the host, with the placeholders expanded.
        case host(String)
        /// Poll `state` (5 s at most) until this status; observes the status reached.
        case wait(String)
        case sleep(Double)
        /// Start the runtime command and go on; `join` waits for it and observes it.
        case background([String])
        case join
        /// The runtime command with a console socket at {sock}; observes
        /// its exit code and output and whether a pty master came.
        case console([String])
        /// Reads the pty master that came (until the container closes it).
        case tty
    }

    let label: String
    let action: Action
    var check: DiffCheck
    var stdin: String?

    /// The runtime with a command line written as words ('single quotes' group).
    static func cmd(_ line: String, _ check: DiffCheck = .outcome, stdin: String? = nil) -> DiffStep {
        DiffStep(label: line, action: .runtime(shellWords(line)), check: check, stdin: stdin)
    }

    static func exact(_ line: String, stdin: String? = nil) -> DiffStep { cmd(line, .exact, stdin: stdin) }
    static func host(_ script: String, _ check: DiffCheck = .exact) -> DiffStep {
        DiffStep(label: "host: " + script, action: .host(script), check: check)
    }
    static func wait(_ status: String) -> DiffStep { DiffStep(label: "wait " + status, action: .wait(status), check: .exact) }
    static func sleep(_ seconds: Double) -> DiffStep { DiffStep(label: "sleep \(seconds)", action: .sleep(seconds), check: .ignore) }
    static func background(_ line: String, stdin: String? = nil) -> DiffStep {
        DiffStep(label: "background " + line, action: .background(shellWords(line)), check: .ignore, stdin: stdin)
    }
    static func join(_ check: DiffCheck = .exact) -> DiffStep { DiffStep(label: "join", action: .join, check: check) }
    static func console(_ line: String) -> DiffStep { DiffStep(label: "console " + line, action: .console(shellWords(line)), check: .exact) }
    static let tty = DiffStep(label: "tty", action: .tty, check: .exact)

    /// Common sequences.
    static let runDetached = cmd("run -d -b {bundle} {id}")
    static let createIt = cmd("create -b {bundle} {id}")
    static let stateIt = cmd("state {id}", .state)
    static let forceDelete = cmd("delete --force {id}")
    /// Shell: the pid `state` reports, whatever the JSON's layout.
    static let statePid = #"$({rt} state {id} | tr -d ' \n' | sed 's/.*"pid":\([0-9]*\).*/\1/')"#

    /// Splits a command line on blanks; '...' and "..." group (no escapes).
    static func shellWords(_ line: String) -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character?
        for char in line {
            if let open = quote {
                if char == open { quote = nil } else { current.append(char) }
            } else if char == "'" || char == "\"" {
                quote = char
                inWord = true
            } else if char == " " {
                if inWord { words.append(current) }
                current = ""
                inWord = false
            } else {
                current.append(char)
                inWord = true
            }
        }
        if inWord { words.append(current) }
        return words
    }
}

struct DiffScenario {
    let name: String
    /// Applied to runc's default spec after the common changes (absolute
    /// rootfs, no terminal, the scratch directory bound at /tmp).
    var config: (inout [String: Any], DiffSandbox) -> Void
    /// Files written under {host} first; a "#!" first line makes one executable.
    var files: [String: String]
    /// A copy of the rootfs for this run, for scenarios where the runtime
    /// creates something in it (a missing cwd or mount target).
    var ownRootfs: Bool
    var steps: [DiffStep]
    /// How long one command may take before it counts as hung (and is killed).
    var timeout: TimeInterval = 10

    /// The same scenario with a shorter limit, for one known to hang.
    func hangingAfter(_ seconds: TimeInterval) -> DiffScenario {
        var copy = self
        copy.timeout = seconds
        return copy
    }

    init(
        _ name: String, files: [String: String] = [:], ownRootfs: Bool = false,
        config: @escaping (inout [String: Any], DiffSandbox) -> Void = { _, _ in }, steps: [DiffStep]
    ) {
        self.name = name
        self.files = files
        self.ownRootfs = ownRootfs
        self.config = config
        self.steps = steps
    }

    /// The container runs `sh -c script`.
    init(
        _ name: String, script: String, files: [String: String] = [:], ownRootfs: Bool = false,
        config: @escaping (inout [String: Any], DiffSandbox) -> Void = { _, _ in }, steps: [DiffStep]
    ) {
        self.init(
            name, files: files, ownRootfs: ownRootfs,
            config: { spec, sandbox in
                spec.setProcess("args", ["sh", "-c", script])
                config(&spec, sandbox)
            }, steps: steps)
    }
}

/// Where one runtime runs one scenario. Placeholders in commands, host
/// scripts and host files: {id} {id2} {bundle} {root} {host} {out} {sock}
/// {rt} (the binary with --root, for host scripts) {bin} (the binary alone).
struct DiffSandbox {
    let runtime: DiffRuntime
    let dir: String
    let ids: [String]
    var root: String { dir + "/root" }
    var bundle: String { dir + "/bundle" }
    /// Host-side files: scripts, process.json, logs hooks write.
    var host: String { dir + "/host" }
    /// Bound read-write at /tmp in the container; compared afterwards.
    var out: String { dir + "/out" }
    var socket: String { dir + "/c.sock" }
    var id: String { ids[0] }

    func expand(_ text: String) -> String {
        text.replacingOccurrences(of: "{id}", with: ids[0])
            .replacingOccurrences(of: "{id2}", with: ids[1])
            .replacingOccurrences(of: "{bundle}", with: bundle)
            .replacingOccurrences(of: "{root}", with: root)
            .replacingOccurrences(of: "{host}", with: host)
            .replacingOccurrences(of: "{out}", with: out)
            .replacingOccurrences(of: "{sock}", with: socket)
            .replacingOccurrences(of: "{rt}", with: runtime.binary + " --root " + root)
            .replacingOccurrences(of: "{bin}", with: runtime.binary)
    }

    /// What differs between the two runs for reasons that are not the
    /// runtime's behaviour: paths, ids, the binary's name, times.
    func normalise(_ text: String) -> String {
        var result = text
        let replacements = [
            (dir, "<sandbox>"), (ids[0], "<id>"), (ids[1], "<id2>"), (runtime.binary, "<runtime>"),
            (Harness.packageRoot, "<package>"), (runtime.name, "<runtime>"),
        ]
        for (from, to) in replacements { result = result.replacingOccurrences(of: from, with: to) }
        // RFC 3339 times, with or without fractions (runc's have nanoseconds).
        return result.replacingOccurrences(
            of: #"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)"#,
            with: "<time>", options: .regularExpression)
    }
}

enum DifferentialRunner {
    static let runtimeErrorLine = #"^(time="[^"]*" level=(error|fatal|panic) msg=|(runc|vessel): (?!warning:|info:|debug:|notice:))"#
    /// swift-argument-parser's usage errors (runc prints its help to stdout instead).
    static let usageErrorLine = #"^(Error: |Usage: |  See '|Help: )"#
    static let runtimeNoiseLine = #"^(time="[^"]*" level=(warning|info|debug) msg=|(runc|vessel): (warning|info|debug|notice): )"#

    /// runc's `spec` output, made once: the base both runtimes' bundles start from.
    static let baseSpecJSON: Data? = {
        guard let runc = DiffRuntime.runc else { return nil }
        let dir = NSTemporaryDirectory() + "vessel-diff-spec-" + UUID().uuidString.prefix(8)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        guard (try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)) != nil,
            let outcome = try? Harness.execute(runc.binary, ["spec", "--bundle", dir]), outcome.code == 0,
            let data = FileManager.default.contents(atPath: dir + "/config.json")
        else { return nil }
        return data
    }()
    /// Decoded at each use: its JSON is Sendable, a `[String: Any]` is not.
    static var baseSpec: [String: Any]? { baseSpecJSON.flatMap { (try? JSONSerialization.jsonObject(with: $0)) as? [String: Any] } }

    /// Runs every scenario through both runtimes and compares; one failure per scenario that differs unexpectedly.
    static func run(_ scenarios: [DiffScenario], file: StaticString = #filePath, line: UInt = #line) throws {
        _ = try Harness()  // the same preconditions (root, binary, rootfs, cgroup2) as the other integration tests
        guard let runc = DiffRuntime.runc else { throw XCTSkip("runc is not installed (scripts/install-deps.sh installs it)") }
        guard let base = baseSpec else { throw XCTSkip("`runc spec` did not give a config.json") }
        let only = ProcessInfo.processInfo.environment["DIFF_SCENARIO"]
        // Both runtimes inherit it: a hook without `env` shows whether it got the runtime's environment.
        setenv("DIFF_MARKER", "set by the caller", 1)
        let scratch = NSTemporaryDirectory() + "vessel-diff-" + UUID().uuidString.prefix(8)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        for (index, scenario) in scenarios.enumerated() where only == nil || only == scenario.name {
            let began = Date()
            let reference = try transcript(scenario, runtime: runc, base: base, dir: scratch + "/\(index)-runc")
            let middle = Date()
            let ours = try transcript(scenario, runtime: .vessel, base: base, dir: scratch + "/\(index)-vessel")
            if ProcessInfo.processInfo.environment["DIFF_VERBOSE"] != nil {
                let times = String(format: "runc %.2f s, vessel %.2f s", middle.timeIntervalSince(began), Date().timeIntervalSince(middle))
                print("== \(scenario.name) (\(times))\nrunc:\n\(reference.joined(separator: "\n"))\nvessel:\n\(ours.joined(separator: "\n"))")
            }
            judge(scenario.name, runc: reference, vessel: ours, file: file, line: line)
        }
    }

    /// runc 1.1.5 sometimes fails to remove a cgroup after a failed create
    /// (a race with its killed child, seen under load); vessel leaving none
    /// where runc left one is what a runtime must do, never a difference.
    static func leaksOnlyInRunc(_ runc: String, _ vessel: String) -> Bool {
        runc.hasPrefix("left on the host: ") && runc.contains(", cgroup kept,")
            && runc.replacingOccurrences(of: ", cgroup kept,", with: ", cgroup none,") == vessel
    }

    /// Passes where the transcripts match, or where vessel differs exactly as documented.
    static func judge(_ name: String, runc: [String], vessel: [String], file: StaticString, line: UInt) {
        let differing = zip(runc, vessel).filter { $0 != $1 && !leaksOnlyInRunc($0, $1) }
        let vesselLines = differing.map(\.1)
        let report = differing.map { "  runc:   \($0.0)\n  vessel: \($0.1)" }.joined(separator: "\n")
        if runc.count != vessel.count {
            XCTFail("\(name): transcripts of different length\nrunc:\n\(runc.joined(separator: "\n"))\nvessel:\n\(vessel.joined(separator: "\n"))", file: file, line: line)
        } else if let known = DifferentialKnownDifferences.table[name] {
            if differing.isEmpty {
                XCTFail("\(name): vessel now behaves as runc does; delete its entry in DifferentialKnownDifferences (\(known.reason))", file: file, line: line)
            } else if vesselLines != known.vessel {
                XCTFail("\(name): differs from runc otherwise than documented (\(known.reason)):\n\(report)\nvessel's lines now:\n\(literal(vesselLines))", file: file, line: line)
            }
        } else if !differing.isEmpty {
            XCTFail("\(name): vessel differs from runc:\n\(report)\nvessel's lines, for a DifferentialKnownDifferences entry:\n\(literal(vesselLines))", file: file, line: line)
        }
    }

    static func literal(_ lines: [String]) -> String {
        "[" + lines.map { String(reflecting: $0) }.joined(separator: ", ") + "]"
    }

    // MARK: one runtime, one scenario

    static func transcript(_ scenario: DiffScenario, runtime: DiffRuntime, base: [String: Any], dir: String) throws -> [String] {
        let tag = UUID().uuidString.prefix(6).lowercased()
        let sandbox = DiffSandbox(runtime: runtime, dir: dir, ids: ["dx\(tag)a", "dx\(tag)b"])
        defer { cleanUp(sandbox) }
        try prepare(scenario, sandbox, base: base)
        var session = Session(sandbox: sandbox, timeout: scenario.timeout)
        var lines: [String] = []
        for (index, step) in scenario.steps.enumerated() {
            let seen = try session.perform(step)
            lines.append("#\(index + 1) \(step.label): " + seen)
        }
        if let master = session.console { close(master) }
        lines.append("files in /tmp: " + describeFiles(sandbox))
        if session.killedHung { settle(sandbox, pids: session.pids) }
        lines.append("left on the host: " + leftovers(sandbox, pids: session.pids))
        return lines
    }

    static func prepare(_ scenario: DiffScenario, _ sandbox: DiffSandbox, base: [String: Any]) throws {
        let files = FileManager.default
        for path in [sandbox.root, sandbox.bundle, sandbox.host, sandbox.out] {
            try files.createDirectory(atPath: path, withIntermediateDirectories: true)
        }
        chmod(sandbox.out, 0o1777)  // like /tmp: users other than root write there too
        var spec = base
        spec["root"] = ["path": Harness.rootfs, "readonly": true]
        if scenario.ownRootfs {
            let copy = try Harness.execute("/bin/cp", ["-a", Harness.rootfs, sandbox.bundle + "/rootfs"])
            guard copy.code == 0 else { throw XCTSkip("cannot copy the rootfs: \(copy.stderr)") }
            spec["root"] = ["path": "rootfs", "readonly": true]
        }
        spec.setProcess("terminal", false)
        var mounts = spec["mounts"] as? [[String: Any]] ?? []
        mounts.append(["destination": "/tmp", "type": "bind", "source": sandbox.out, "options": ["rbind", "rw"]])
        spec["mounts"] = mounts
        scenario.config(&spec, sandbox)
        let data = try JSONSerialization.data(withJSONObject: spec, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: URL(fileURLWithPath: sandbox.bundle + "/config.json"))
        for (name, content) in scenario.files {
            let path = sandbox.host + "/" + name
            try files.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(sandbox.expand(content).utf8).write(to: URL(fileURLWithPath: path))
            if content.hasPrefix("#!") { chmod(path, 0o755) }
        }
    }

    /// The state of one runtime's run of a scenario between steps.
    struct Session {
        let sandbox: DiffSandbox
        var background: Harness.Running?
        var backgroundStart = Date()
        /// Every container pid seen, to look for survivors at the end.
        var pids: Set<Int> = []
        /// The pty master a console step received, until a tty step reads it.
        var console: Int32?
        /// A runtime command hung and was killed.
        var killedHung = false

        let timeout: TimeInterval

        init(sandbox: DiffSandbox, timeout: TimeInterval) {
            self.sandbox = sandbox
            self.timeout = timeout
        }

        mutating func perform(_ step: DiffStep) throws -> String {
            switch step.action {
            case .runtime(let args):
                let outcome = try runtime(args, stdin: step.stdin)
                return observe(outcome, step.check)
            case .host(let script):
                let outcome = DifferentialRunner.finish(try Harness.start("/bin/sh", ["-c", sandbox.expand(script)], stdin: step.stdin), timeout: timeout)
                return observe(outcome, step.check)
            case .wait(let wanted):
                return waitFor(wanted)
            case .sleep(let seconds):
                usleep(UInt32(seconds * 1_000_000))
                return ""
            case .background(let args):
                background = try Harness.start(
                    sandbox.runtime.binary, ["--root", sandbox.root] + args.map(sandbox.expand),
                    stdin: step.stdin, newSession: true)
                return ""
            case .join:
                guard let running = background else { return "nothing in the background" }
                background = nil
                return observe(DifferentialRunner.finish(running, timeout: timeout), step.check)
            case .console(let args):
                let pending = try HooksAndTerminalTests.ConsoleReceiver(path: sandbox.socket).receiveInBackground()
                let outcome = try runtime(args, stdin: step.stdin)
                // A runtime sends the master before the command returns; a short grace is enough.
                let master = pending(0.5)
                if master >= 0 { console = master }
                return observe(outcome, .exact) + (master >= 0 ? " | pty master received" : " | no pty master")
            case .tty:
                guard let master = console else { return "no pty master" }
                console = nil
                defer { close(master) }
                return String(reflecting: sandbox.normalise(HooksAndTerminalTests.drain(master, deadline: 5)))
            }
        }

        mutating func runtime(_ args: [String], stdin: String?) throws -> Outcome {
            let began = Date()
            let running = try Harness.start(
                sandbox.runtime.binary, ["--root", sandbox.root] + args.map(sandbox.expand),
                stdin: stdin, newSession: true)
            let outcome = DifferentialRunner.finish(running, timeout: timeout)
            if outcome.code == DifferentialRunner.hungCode { killedHung = true }
            if ProcessInfo.processInfo.environment["DIFF_RAW"] != nil {
                let took = String(format: "%.3f s", Date().timeIntervalSince(began))
                print("\(sandbox.runtime.name) \(args.joined(separator: " ")) -> \(outcome.code) in \(took)\n\(outcome.stdout)\(outcome.stderr)")
            }
            return outcome
        }

        /// Gives up after 5 s, or after 1 s without any state (the container is gone or never came).
        mutating func waitFor(_ wanted: String) -> String {
            var current = "no state"
            var absent = 0
            for _ in 0..<250 where absent < 50 {
                guard let outcome = try? runtime(["state", sandbox.id], stdin: nil) else { break }
                let state = (try? JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8))) as? [String: Any]
                if let pid = state?["pid"] as? Int, pid > 0 { pids.insert(pid) }
                current = outcome.code == 0 ? (state?["status"] as? String ?? "unparsable state") : "no state"
                absent = outcome.code == 0 ? 0 : absent + 1
                if current == wanted { break }
                usleep(20_000)
            }
            return current
        }

        mutating func observe(_ outcome: Outcome, _ check: DiffCheck) -> String {
            let failed = outcome.code != 0
            let summary = "exit \(outcome.code)" + (failed && outcome.stderr.isEmpty && outcome.stdout.isEmpty ? " silently" : "")
            let out = sandbox.normalise(outcome.stdout)
            let json = try? JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8), options: [.fragmentsAllowed])
            if let pid = (json as? [String: Any])?["pid"] as? Int, pid > 0 { pids.insert(pid) }
            switch check {
            case .ignore:
                return ""
            case .outcome:
                return summary
            case .refusal:
                return summary + (failed ? (DifferentialRunner.isUsageError(outcome) ? " as usage" : " by the runtime") : "")
            case .exact:
                return summary + " | out: " + String(reflecting: out) + " | err: " + String(reflecting: DifferentialRunner.containerStderr(outcome.stderr, sandbox))
            case .table:
                return summary + " | " + DifferentialRunner.tableShape(out)
            case .version:
                return summary + " | " + DifferentialRunner.versionShape(out)
            case .helpCommands:
                return summary + " | " + DifferentialRunner.helpCommands(outcome.stdout + outcome.stderr)
            case .state where failed:
                return summary
            case .state, .field, .listJSON, .jsonShape, .json:
                guard let json else { return summary + " | not JSON: " + String(reflecting: out) }
                return summary + " | " + DifferentialRunner.describeJSON(json, check, sandbox)
            }
        }
    }

    /// A JSON document as a JSON-reading check keeps it.
    static func describeJSON(_ json: Any, _ check: DiffCheck, _ sandbox: DiffSandbox) -> String {
        switch check {
        case .state:
            return stateShape(json, sandbox)
        case .field(let key):
            guard let value = (json as? [String: Any])?[key] else { return "no \(key)" }
            return "\(key)=" + sandbox.normalise(serialised(value))
        case .listJSON:
            guard let array = json as? [Any] else { return shape(json) }
            return "[" + array.map { stateShape($0, sandbox, alsoKeeping: ["owner"]) }.joined(separator: "; ") + "]"
        case .json:
            // The spec version each runtime was built against (runc's "1.0.2-dev") is not behaviour.
            guard var document = json as? [String: Any], document["ociVersion"] is String else { return sandbox.normalise(serialised(json)) }
            document["ociVersion"] = "<ociVersion>"
            return sandbox.normalise(serialised(document))
        default:
            return shape(json)
        }
    }

    static func serialised(_ value: Any) -> String {
        let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed, .withoutEscapingSlashes])
        return data.map { String(decoding: $0, as: UTF8.self) } ?? "not serialisable"
    }

    /// The exit code a hung command is reported with (timeout(1)'s).
    static let hungCode: Int32 = 124

    /// The command's outcome; one still running after `timeout` seconds is
    /// killed (its container goes with the clean-up) and reported as hung,
    /// so a hang is a difference, not a stuck suite.
    static func finish(_ running: Harness.Running, timeout: TimeInterval) -> Outcome {
        let deadline = Date().addingTimeInterval(timeout)
        // Until reaped, an exited child is a zombie: alive() says false without reaping it.
        while alive(Int(running.pid)), Date() < deadline { usleep(5_000) }
        guard alive(Int(running.pid)) else { return running.outcome() }
        kill(running.pid, SIGKILL)
        let killed = running.outcome()
        return Outcome(code: hungCode, stdout: killed.stdout, stderr: "hung: killed after \(Int(timeout)) s\n" + killed.stderr)
    }

    // MARK: normalisers

    /// The container's stderr, with the runtime's own lines replaced: an
    /// error line (runc's `time=... level=error`, vessel's `vessel: ...`)
    /// becomes `<error>`, warnings go (they are advice, not behaviour).
    static func containerStderr(_ text: String, _ sandbox: DiffSandbox) -> String {
        var lines: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.range(of: runtimeNoiseLine, options: .regularExpression) != nil { continue }
            if line.range(of: runtimeErrorLine, options: .regularExpression) != nil
                || line.range(of: usageErrorLine, options: .regularExpression) != nil
            {
                if lines.last != "<error>" { lines.append("<error>") }
                continue
            }
            lines.append(sandbox.normalise(line))
        }
        return lines.joined(separator: "\n")
    }

    /// A parser's refusal: urfave/cli's "Incorrect Usage" (runc), or swift-argument-parser's lines.
    static func isUsageError(_ outcome: Outcome) -> Bool {
        let text = outcome.stdout + outcome.stderr
        return text.contains("Incorrect Usage")
            || text.split(separator: "\n").contains {
                $0.range(of: usageErrorLine, options: .regularExpression) != nil
            }
    }

    /// state: every key with its value's type, and the values that matter:
    /// status, id, bundle, rootfs, created (as a time), annotations; pid as
    /// zero or not. (`state`'s owner has a scenario of its own.)
    static func stateShape(_ object: Any, _ sandbox: DiffSandbox, alsoKeeping extra: Set<String> = []) -> String {
        guard let state = object as? [String: Any] else { return "not an object: " + shape(object) }
        let kept = extra.union(["status", "id", "bundle", "rootfs", "created"])
        let parts = state.keys.sorted().map { key -> String in
            let value = state[key] ?? NSNull()
            if kept.contains(key), let text = value as? String { return "\(key)=\(sandbox.normalise(text))" }
            if key == "pid", let pid = value as? Int { return "pid=" + (pid > 0 ? "positive" : String(pid)) }
            if key == "annotations" { return "annotations=" + serialised(value) }
            return "\(key):\(shape(value))"
        }
        return parts.joined(separator: " ")
    }

    /// A table as tokens: the header's words and each row's, digits as `#`.
    static func tableShape(_ text: String) -> String {
        text.split(separator: "\n").map { line in
            line.split(whereSeparator: { $0 == " " || $0 == "\t" })
                .map { $0.replacingOccurrences(of: #"[0-9]+"#, with: "#", options: .regularExpression) }
                .joined(separator: " ")
        }.joined(separator: " / ")
    }

    /// Keys and value types; an array by the union of its elements' shapes.
    static func shape(_ value: Any) -> String {
        switch value {
        case let object as [String: Any]:
            return "{"
                + object.keys.sorted().map { key in
                    // Annotation keys are each runtime's own (org.opencontainers.runc.*, org.vessel.*).
                    key == "annotations" ? "annotations:{*:string}" : "\(key):" + shape(object[key] ?? NSNull())
                }.joined(separator: ",") + "}"
        case let array as [Any]:
            let elements = Set(array.map(shape)).sorted()
            return "[" + elements.joined(separator: "|") + "]"
        case is NSNull:
            return "null"
        case let number as NSNumber:
            // JSONSerialization gives booleans as NSNumber too, of type "c".
            return String(cString: number.objCType) == "c" ? "bool" : "number"
        case is String:
            return "string"
        default:
            return "\(type(of: value))"
        }
    }

    /// `X version V` and the `commit:` and `spec:` lines: what engines
    /// parse (Docker's runtime version). runc's `go:` and `libseccomp:` are
    /// for people.
    static func versionShape(_ text: String) -> String {
        let lines = text.split(separator: "\n").map(String.init)
        guard let first = lines.first else { return "empty" }
        let head = first.range(of: #"^<runtime> version \S+$"#, options: .regularExpression) != nil ? "<runtime> version V" : first
        let keys = lines.dropFirst().compactMap { $0.split(separator: ":").first.map(String.init) }
            .filter { ["commit", "spec"].contains($0) }
        return ([head] + keys.map { $0 + ": V" }).joined(separator: " / ")
    }

    static let runcCommands = [
        "checkpoint", "create", "delete", "events", "exec", "kill", "list", "pause", "ps",
        "restore", "resume", "run", "spec", "start", "state", "update", "features",
    ]

    /// Which of runc's commands a help text lists (as the first word of an indented line).
    static func helpCommands(_ text: String) -> String {
        let listed = Set(
            text.split(separator: "\n").compactMap { line -> String? in
                guard line.hasPrefix("  ") else { return nil }
                return line.split(whereSeparator: { $0 == " " || $0 == "," }).first.map(String.init)
            })
        let missing = runcCommands.filter { !listed.contains($0) }
        return missing.isEmpty ? "lists all of runc's commands" : "does not list " + missing.joined(separator: ", ")
    }

    /// What the container left in /tmp (the scratch directory): path, type,
    /// mode, owner and, for files, the content.
    static func describeFiles(_ sandbox: DiffSandbox) -> String {
        guard let walker = FileManager.default.enumerator(atPath: sandbox.out) else { return "unreadable" }
        var entries: [String] = []
        for case let relative as String in walker {
            let path = sandbox.out + "/" + relative
            var info = stat()
            guard lstat(path, &info) == 0 else { continue }
            let kind = info.st_mode & S_IFMT
            var entry = sandbox.normalise(relative) + " " + String(info.st_mode & 0o7777, radix: 8) + " \(info.st_uid):\(info.st_gid)"
            if kind == S_IFDIR { entry += " dir" }
            if kind == S_IFLNK { entry += " -> " + ((try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? "?") }
            if kind == S_IFREG {
                let content = FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } ?? ""
                entry += " " + String(reflecting: sandbox.normalise(content))
            }
            entries.append(entry)
        }
        return entries.isEmpty ? "none" : entries.sorted().joined(separator: "; ")
    }

    /// Cgroup directories named after one of the sandbox's ids (the
    /// runtimes' default paths differ: runc /<id>, vessel /vessel/<id>).
    static func cgroups(_ sandbox: DiffSandbox) -> [String] {
        var found: [String] = []
        func walk(_ dir: String, depth: Int) {
            guard depth > 0, let entries = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return }
            for entry in entries {
                let path = dir + "/" + entry
                var info = stat()
                guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else { continue }
                if sandbox.ids.contains(where: { entry.contains($0) }) { found.append(path) }
                walk(path, depth: depth - 1)
            }
        }
        walk("/sys/fs/cgroup", depth: 3)
        return found
    }

    /// State directories, cgroups, processes and mounts the scenario left.
    static func leftovers(_ sandbox: DiffSandbox, pids: Set<Int>) -> String {
        let states = ((try? FileManager.default.contentsOfDirectory(atPath: sandbox.root)) ?? []).map(sandbox.normalise).sorted()
        let groups = cgroups(sandbox)
        let living = survivors(sandbox, pids: pids)
        let mountinfo = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
        let mounts = mountinfo.split(separator: "\n").filter { $0.contains(sandbox.dir) }.count
        return "state dirs [\(states.joined(separator: ", "))], cgroup \(groups.isEmpty ? "none" : "kept"), processes \(living.count), mounts \(mounts)"
    }

    /// The container's processes still alive: those seen and those in its cgroups.
    static func survivors(_ sandbox: DiffSandbox, pids: Set<Int>) -> Set<Int> {
        var living = Set(pids.filter { alive($0) })
        for group in cgroups(sandbox) {
            let procs = (try? String(contentsOfFile: group + "/cgroup.procs", encoding: .utf8)) ?? ""
            living.formUnion(procs.split(separator: "\n").compactMap { Int($0) })
        }
        return living
    }

    /// After a hung runtime was killed, its children die of that in their
    /// own time: wait (1 s at most) so that the count does not race them.
    static func settle(_ sandbox: DiffSandbox, pids: Set<Int>) {
        for _ in 0..<100 where !survivors(sandbox, pids: pids).isEmpty { usleep(10_000) }
    }

    /// A live process (a zombie has exited: it only waits to be reaped).
    static func alive(_ pid: Int) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.first != "Z"
    }

    /// Whatever the run left: containers force-deleted, their cgroups
    /// killed and removed, mounts under the sandbox detached, files removed.
    static func cleanUp(_ sandbox: DiffSandbox) {
        // The ids a scenario used, and any other it made (a bad-id scenario may have).
        let made = (try? FileManager.default.contentsOfDirectory(atPath: sandbox.root)) ?? []
        for id in Set(sandbox.ids + made) {
            _ = try? Harness.execute(sandbox.runtime.binary, ["--root", sandbox.root, "delete", "--force", id])
        }
        for group in cgroups(sandbox).sorted(by: { $0.count > $1.count }) {
            if let kill = FileHandle(forWritingAtPath: group + "/cgroup.kill") {
                kill.write(Data("1".utf8))
                try? kill.close()
            }
            for _ in 0..<100 where rmdir(group) != 0 && errno == EBUSY { usleep(10_000) }
        }
        rmdir("/sys/fs/cgroup/vessel")  // vessel's default parent; fails while others use it, as it should
        let mountinfo = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
        for line in mountinfo.split(separator: "\n").reversed() {
            let fields = line.split(separator: " ")
            if fields.count > 4, fields[4].hasPrefix(sandbox.dir) { umount2(String(fields[4]), Int32(MNT_DETACH)) }
        }
        try? FileManager.default.removeItem(atPath: sandbox.dir)
    }
}

extension DiffStep {
    /// Waits (5 s at most) for the container to write /tmp/<name>: a
    /// handshake for scripts that must be ready (a trap set) before a step.
    static func waitFile(_ name: String) -> DiffStep {
        host("i=0; while [ ! -e {out}/\(name) ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done", .ignore)
    }
}

extension Dictionary where Key == String, Value == Any {
    mutating func addMount(_ destination: String, type: String, source: String, options: [String]? = nil) {
        var mounts = self["mounts"] as? [[String: Any]] ?? []
        var mount: [String: Any] = ["destination": destination, "type": type, "source": source]
        if let options { mount["options"] = options }
        mounts.append(mount)
        self["mounts"] = mounts
    }

    mutating func setHooks(_ hooks: [String: [[String: Any]]]) { self["hooks"] = hooks }

    /// linux.namespaces with `type` added (or, with remove, taken out).
    mutating func changeNamespace(_ type: String, remove: Bool = false) {
        let linux = self["linux"] as? [String: Any] ?? [:]
        let others = (linux["namespaces"] as? [[String: Any]] ?? []).filter { $0["type"] as? String != type }
        setLinux("namespaces", remove ? others : others + [["type": type]])
    }

    /// A new user namespace mapping root to 100000 (uids) and 200000 (gids),
    /// as runc's tests' remap_rootfs; the rootfs must be chowned to match.
    mutating func addRemappedUserNamespace() {
        changeNamespace("user")
        setLinux("uidMappings", [["hostID": 100000, "containerID": 0, "size": 65534]])
        setLinux("gidMappings", [["hostID": 200000, "containerID": 0, "size": 65534]])
    }

    /// The runc spec's cgroup mount made read-write (runc's tests' set_cgroup_mount_writable).
    mutating func makeCgroupMountWritable() {
        let mounts = self["mounts"] as? [[String: Any]] ?? []
        self["mounts"] = mounts.map { mount in
            guard mount["type"] as? String == "cgroup" else { return mount }
            var writable = mount
            writable["options"] = (mount["options"] as? [String] ?? []).map { $0 == "ro" ? "rw" : $0 }
            return writable
        }
    }
}
