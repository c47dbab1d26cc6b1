import Foundation
import XCTest

// Seeded fuzzing of config.json: each case applies 1-3 mutations to the
// busybox config (wrong types, deletions, huge, deep and out-of-range values,
// NUL bytes and broken escapes, escaping paths, unknown namespaces,
// duplicated or emptied arrays, hooks and bind mounts into a scratch
// directory), sometimes damages the bytes, runs `vessel create` and checks
// DESIGN.md decision 5: no crash, no hang, a failure is one line, and nothing
// is left behind.
//
// Replay: VESSEL_FUZZ_SEED=S VESSEL_FUZZ_CASE=N runs case N alone (and
// prints its mutations and vessel's stderr, and keeps its config.json in
// /tmp); VESSEL_FUZZ_CASES=K runs cases 0..<K. Each case draws from its own
// generator (seed and number), so one case replays without the others.
//
// Nothing here points at the host on purpose: hooks, bind sources, namespace
// paths and root.path stay in the scratch directory, cgroupsPath is always
// a new cgroup named after the case, and linux.sysctl, linux.devices and
// annotations are never touched. `safetyProblem` re-checks the final bytes
// before each run.
final class ConfigFuzzTests: XCTestCase {
    static let defaultSeed: UInt64 = 0x5EED_F022
    static let defaultCases = 800
    static let createTimeout = 10.0
    static let warningPrefix = "vessel: warning: "

    var harness: Harness!

    override func setUpWithError() throws { harness = try Harness() }

    override func tearDown() {
        harness?.cleanUp()
        // Parents that cgroupsPath mutations made; rmdir only removes empty ones.
        Self.removeEmptyCgroups("/sys/fs/cgroup/vessel-fuzz")
    }

    static func removeEmptyCgroups(_ directory: String) {
        var info = stat()
        guard lstat(directory, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else { return }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
            removeEmptyCgroups(directory + "/" + name)
        }
        rmdir(directory)
    }

    func testCreateSurvivesMutatedConfigs() throws {
        let environment = ProcessInfo.processInfo.environment
        let seed = environment["VESSEL_FUZZ_SEED"].flatMap(Self.parseSeed) ?? Self.defaultSeed
        let cases: [Int]
        let single = environment["VESSEL_FUZZ_CASE"].flatMap { Int($0) }
        if let single {
            cases = [single]
        } else {
            cases = Array(0..<(environment["VESSEL_FUZZ_CASES"].flatMap { Int($0) } ?? Self.defaultCases))
        }
        let scene = try FuzzScene(harness: harness)
        let started = Date()
        var tally = [String: Int]()
        for number in cases {
            let outcome = try runCase(number, seed: seed, scene: scene, verbose: single != nil)
            tally[outcome, default: 0] += 1
        }
        let seconds = String(format: "%.1f", Date().timeIntervalSince(started))
        print("config fuzz: seed \(Self.hex(seed)), \(cases.count) cases in \(seconds) s: \(tally.sorted { $0.key < $1.key })")
    }

    /// One case: mutate, check the result is safe to run, create, judge,
    /// delete. Returns how it ended, for the summary.
    func runCase(_ number: Int, seed: UInt64, scene: FuzzScene, verbose: Bool = false) throws -> String {
        var random = SplitMix64(seed: seed ^ (UInt64(number) &* 0xD134_2543_DE82_EF95))
        let id = "fz\(number)-\(scene.token)"
        var mutator = Mutator(random: random, scene: scene, id: id)
        var config = scene.baseline
        var applied = (0..<(1 + mutator.random.below(3))).map { _ in mutator.mutate(&config) }
        random = mutator.random
        var bytes = config.serialized()
        let damaged = random.chance(15)
        if damaged { applied.append(Self.damage(&bytes, &random)) }

        let replay = "VESSEL_FUZZ_SEED=\(Self.hex(seed)) VESSEL_FUZZ_CASE=\(number)"
        let context = "seed \(Self.hex(seed)) case \(number) (replay: \(replay)); mutations: \(applied.joined(separator: "; "))"
        if verbose {
            let kept = NSTemporaryDirectory() + "vessel-fuzz-\(Self.hex(seed))-\(number).json"
            try? Data(bytes).write(to: URL(fileURLWithPath: kept))
            print("config fuzz: \(context); config.json kept at \(kept)")
        }
        if let unsafe = scene.safetyProblem(bytes, id: id) {
            // A damaged byte may turn a scratch path into some other path:
            // skip that. Without damage it is a bug in the mutator.
            if !damaged { XCTFail("the mutator made an unsafe config (\(unsafe)): \(context)") }
            return "skipped as unsafe"
        }

        let bundle = try harness.bundle()
        try Data(bytes).write(to: URL(fileURLWithPath: bundle + "/config.json"))
        defer { try? FileManager.default.removeItem(atPath: bundle) }

        var problems: [String] = []
        let create = try runVessel(["create", "--bundle", bundle, id], problems: &problems)
        if let create, create.code == 0 {
            if let delete = try runVessel(["delete", "--force", id], problems: &problems), delete.code != 0 {
                problems.append("delete --force exited \(delete.code): \(delete.stderr)")
            }
        } else if let create {
            problems += Self.oneLineFailureProblems(create)
        } else {
            _ = try? harness.vessel(["delete", "--force", id])
        }
        if verbose, let create {
            print("config fuzz: create exited \(create.code); stderr: \(create.stderr.prefix(2000))")
        }
        problems += harness.traces(of: id, cgroups: scene.cgroupCandidates(bytes))
        problems += Harness.processes(mentioning: id).map { "process left: \($0)" }
        problems += scene.escapes()
        for problem in problems {
            // Messages may quote a 64 KiB value; keep the start, which names it.
            let shown = problem.count > 600 ? problem.prefix(600) + "…" : Substring(problem)
            XCTFail("\(shown) — \(context)")
        }
        guard problems.isEmpty else { return "failed" }
        return create?.code == 0 ? "created" : "rejected"
    }

    /// `vessel args...` bounded by `createTimeout`; nil after a hang (the
    /// command is killed). Crashes are added to `problems`.
    func runVessel(_ args: [String], problems: inout [String]) throws -> Outcome? {
        let running = try Harness.start(Harness.vesselBinary, ["--root", harness.stateRoot] + args)
        guard running.wait(timeoutSeconds: Self.createTimeout) else {
            kill(running.pid, SIGKILL)
            _ = running.outcome()
            problems.append("`vessel \(args[0])` hung for \(Self.createTimeout) s")
            return nil
        }
        let outcome = running.outcome()
        if let signal = running.signal {
            problems.append("`vessel \(args[0])` was killed by signal \(signal): \(outcome.stderr)")
        } else if outcome.code >= 128 {
            problems.append("`vessel \(args[0])` exited \(outcome.code): \(outcome.stderr)")
        }
        if let crash = Self.crashLine(outcome.stderr) {
            problems.append("`vessel \(args[0])` crashed: \(crash)")
        }
        return outcome
    }

    static let crashMarkers = [
        "Fatal error", "Illegal instruction", "Segmentation", "Stack dump", "Backtracing",
        "Current stack trace", "Thread 0 crashed", "Trace/breakpoint trap",
    ]

    static func crashLine(_ stderr: String) -> String? {
        stderr.split(separator: "\n").first { line in
            crashMarkers.contains { line.contains($0) }
                || line.range(of: #"^\s*#?\d+\s+(0x[0-9a-f]+|\S+\s+0x[0-9a-f]+)"#, options: .regularExpression) != nil
        }.map(String.init)
    }

    /// runc's shape: warnings first, then exactly one non-empty error line.
    static func oneLineFailureProblems(_ outcome: Outcome) -> [String] {
        var lines = outcome.stderr.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        let errors = lines.drop { $0.hasPrefix(warningPrefix) }
        guard errors.count == 1, let line = errors.first, !line.trimmingCharacters(in: .whitespaces).isEmpty else {
            return ["a failed create printed \(errors.count) lines after its warnings, not one: \(outcome.stderr.debugDescription)"]
        }
        return []
    }

    /// Byte-level damage of the serialised config: truncation, a flipped
    /// bit, a dropped or an inserted byte.
    static func damage(_ bytes: inout [UInt8], _ random: inout SplitMix64) -> String {
        guard !bytes.isEmpty else { return "no damage (empty)" }
        let offset = random.below(bytes.count)
        switch random.below(4) {
        case 0:
            bytes.removeSubrange(offset...)
            return "bytes truncated at \(offset)"
        case 1:
            let bit = UInt8(1) << UInt8(random.below(8))
            bytes[offset] ^= bit
            return "bit \(bit) flipped at byte \(offset)"
        case 2:
            bytes.remove(at: offset)
            return "byte \(offset) dropped"
        default:
            let byte = UInt8(truncatingIfNeeded: random.next())
            bytes.insert(byte, at: offset)
            return "byte \(byte) inserted at \(offset)"
        }
    }

    static func parseSeed(_ text: String) -> UInt64? {
        text.hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) : UInt64(text)
    }

    static func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }
}

// MARK: - The scratch world a run mutates into

/// What the cases share: the baseline config and a scratch directory with a
/// rootfs copy, hook scripts and decoys, all of which mutations may point at.
struct FuzzScene {
    let scratch: String
    let rootfs: String
    let hooks: String
    /// Unique to this run, so a host-wide search for an id finds only ours.
    let token: String
    let baseline: JSONValue
    /// The cgroup (under /sys/fs/cgroup) the tests run in: relative cgroupsPath is under it.
    let ownCgroup: String

    init(harness: Harness) throws {
        let scratch = harness.scratch, rootfs = harness.scratch + "/rootfs", hooks = harness.scratch + "/hooks"
        self.scratch = scratch
        self.rootfs = rootfs
        self.hooks = hooks
        token = String(scratch.suffix(6)).lowercased()
        let copy = try Harness.execute("/bin/cp", ["-a", Harness.rootfs, rootfs])
        guard copy.code == 0 else { throw XCTSkip("cannot copy the busybox rootfs: \(copy.stderr)") }
        // Symlinks that leave the rootfs, relative and absolute: a mount or
        // path resolved through them must stay inside it.
        try FileManager.default.createSymbolicLink(
            atPath: rootfs + "/fuzz-link",
            withDestinationPath: String(repeating: "../", count: 12) + scratch + "/escaped-rel")
        try FileManager.default.createSymbolicLink(atPath: rootfs + "/fuzz-abs", withDestinationPath: scratch + "/escaped-abs")
        try FileManager.default.createDirectory(atPath: hooks, withIntermediateDirectories: true)
        let scripts = ["ok.sh": "exit 0", "fail.sh": "exit 3", "slow.sh": "exec /bin/sleep 2"]
        for (name, body) in scripts {
            try "#!/bin/sh\n\(body)\n".write(toFile: hooks + "/" + name, atomically: true, encoding: .utf8)
            chmod(hooks + "/" + name, 0o755)
        }
        try "not a program\n".write(toFile: hooks + "/plain.txt", atomically: true, encoding: .utf8)
        try "a file\n".write(toFile: scratch + "/plain-file", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: scratch + "/mnt-src", withIntermediateDirectories: true)
        mkfifo(scratch + "/fifo", 0o600)

        var base: [String: Any] = [:]
        _ = try harness.bundle { config in
            config["root"] = ["path": rootfs, "readonly": true]
            config.setProcess("args", ["true"])
            base = config
        }
        let data = try JSONSerialization.data(withJSONObject: base)
        baseline = try JSONDecoder().decode(JSONValue.self, from: data)
        let cgroupLine = ((try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8)) ?? "")
            .split(separator: "\n").first { $0.hasPrefix("0::") }
        ownCgroup = cgroupLine.map { String($0.dropFirst(3)) } ?? "/"
    }

    /// Anything a mount or path escape would have made outside the rootfs.
    func escapes() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: scratch)) ?? []
        return names.filter { $0.hasPrefix("escaped") }.map { "a path escaped the rootfs: \(scratch)/\($0) exists" }
    }

    /// Why `bytes` must not run (a host path outside scratch, a cgroup that
    /// is not new and the case's own), or nil. Unparseable bytes are safe:
    /// vessel rejects them before using any value.
    func safetyProblem(_ bytes: [UInt8], id: String) -> String? {
        guard let config = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] else { return nil }
        var hostPaths: [(String, String)] = []
        if let root = config["root"] as? [String: Any], let path = root["path"] as? String {
            let bundleRelative = path.hasPrefix("/") ? path : scratch + "/bundle-00000000/" + path
            hostPaths.append(("root.path", bundleRelative))
        }
        for (kind, list) in (config["hooks"] as? [String: Any]) ?? [:] {
            for case let hook as [String: Any] in (list as? [Any]) ?? [] {
                if let path = hook["path"] as? String { hostPaths.append(("hooks.\(kind)", path)) }
            }
        }
        for case let mount as [String: Any] in (config["mounts"] as? [Any]) ?? [] {
            if let source = mount["source"] as? String, Self.mayBind(mount) { hostPaths.append(("mounts[].source", source)) }
        }
        let linux = config["linux"] as? [String: Any] ?? [:]
        for case let namespace as [String: Any] in (linux["namespaces"] as? [Any]) ?? [] {
            if let path = namespace["path"] as? String { hostPaths.append(("linux.namespaces[].path", path)) }
        }
        for (field, path) in hostPaths where !isScratchOrAbsent(path) {
            return "\(field) \(path.prefix(120).debugDescription) is outside the scratch directory"
        }
        if let cgroupsPath = linux["cgroupsPath"] as? String, !cgroupsPath.isEmpty {
            let own = firstCgroup(namedAfter: id, in: resolvedCgroup(cgroupsPath))
            guard let own, !FileManager.default.fileExists(atPath: "/sys/fs/cgroup" + own) else {
                return "linux.cgroupsPath \(cgroupsPath.prefix(120).debugDescription) is not a new cgroup of this case"
            }
        }
        return nil
    }

    /// Whether a mount entry could become a bind mount of its source.
    static func mayBind(_ mount: [String: Any]) -> Bool {
        let options = (mount["options"] as? [Any] ?? []).compactMap { $0 as? String }
        return (mount["type"] as? String).map { !["proc", "tmpfs", "devpts", "mqueue", "sysfs", "cgroup"].contains($0) } ?? true
            || options.contains { $0.contains("bind") }
    }

    /// The path as a C call sees it (cut at the first NUL), then resolved:
    /// true when it is inside scratch or names nothing ("" included).
    func isScratchOrAbsent(_ path: String) -> Bool {
        let cut = String(path.prefix { $0 != "\0" })
        guard !cut.isEmpty else { return true }
        let absolute = cut.hasPrefix("/") ? cut : FileManager.default.currentDirectoryPath + "/" + cut
        let resolved = URL(fileURLWithPath: absolute).standardized.resolvingSymlinksInPath().path
        return resolved.hasPrefix(scratch + "/") || !FileManager.default.fileExists(atPath: resolved)
    }

    /// The cgroup vessel makes for `cgroupsPath`, resolved as vessel does
    /// (relative to our own cgroup, `..` folded) and then cut at a NUL, as
    /// the system call sees it.
    func resolvedCgroup(_ cgroupsPath: String) -> String {
        let absolute = cgroupsPath.hasPrefix("/") ? cgroupsPath : ownCgroup + "/" + cgroupsPath
        var parts: [Substring] = []
        for part in absolute.split(separator: "/") where part != "." {
            if part == ".." { _ = parts.popLast() } else { parts.append(part) }
        }
        return String(("/" + parts.joined(separator: "/")).prefix { $0 != "\0" })
    }

    /// The first directory of `cgroup` whose name carries the id: from there
    /// down the cgroup is the case's own.
    func firstCgroup(namedAfter id: String, in cgroup: String) -> String? {
        var prefix = ""
        for part in cgroup.split(separator: "/") {
            prefix += "/" + part
            if part.contains(id) { return prefix }
        }
        return nil
    }

    /// The container's cgroup when cgroupsPath names one, to check it is gone.
    /// (Parents vessel made for it stay, as runc's do; tearDown removes them.)
    func cgroupCandidates(_ bytes: [UInt8]) -> [String] {
        let config = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any]
        let linux = config?["linux"] as? [String: Any]
        return [(linux?["cgroupsPath"] as? String).map(resolvedCgroup)].compactMap { $0 }
    }
}

// MARK: - Mutations

/// Draws mutations for one case. Every value that may reach a host path
/// comes from the scene's scratch directory (see FieldKind).
struct Mutator {
    var random: SplitMix64
    let scene: FuzzScene
    let id: String

    enum Kind: CaseIterable {
        case wrongType, deleteKey, hugeString, deepNesting, outOfRangeNumber, brokenString, pathEscape,
            unknownNamespace, duplicateEntry, emptyContainer, addHook, addBindMount, namespacePath,
            cgroupsPath, userNamespace
    }

    /// Applies one random mutation; returns what it did.
    mutating func mutate(_ config: inout JSONValue) -> String {
        let kind = random.pick(Kind.allCases)
        let paths = config.paths()
        switch kind {
        case .wrongType:
            let path = random.pick(paths)
            let value = wrongTypeValue(for: config[path])
            config[path] = value
            return "wrong type at \(path.text): \(value.summary)"
        case .deleteKey:
            guard let path = randomElement(paths.filter { !$0.isEmpty }) else { return "nothing to delete" }
            config[path] = nil
            return "deleted \(path.text)"
        case .hugeString:
            let path = random.pick(paths)
            let value = JSONValue.string(hugeString(for: FieldKind(path)))
            config[path] = value
            return "huge string at \(path.text): \(value.summary)"
        case .deepNesting:
            let path = random.pick(paths)
            let depth = 10_000
            let nested =
                random.chance(50)
                ? String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
                : String(repeating: "{\"a\":", count: depth) + "1" + String(repeating: "}", count: depth)
            config[path] = .raw(Array(nested.utf8))
            return "\(depth) nested \(nested.hasPrefix("[") ? "arrays" : "objects") at \(path.text)"
        case .outOfRangeNumber:
            let numeric = paths.filter { if case .number? = config[$0] { return true } else { return false } }
            let path = random.chance(75) ? randomElement(numeric) ?? random.pick(paths) : random.pick(paths)
            let number = random.pick(Self.outOfRangeNumbers)
            config[path] = .raw(Array(number.utf8))
            return "number \(number) at \(path.text)"
        case .brokenString:
            let path = random.pick(paths)
            let value = brokenString(current: config[path], kind: FieldKind(path))
            config[path] = value
            return "broken string at \(path.text): \(value.summary)"
        case .pathEscape:
            guard let path = randomElement(paths.filter { FieldKind($0) != .other }) else {
                return "no path field to escape"
            }
            let value = random.pick(escapingPaths(for: FieldKind(path)))
            config[path] = .string(value)
            return "path \(path.text) = \(JSONValue.string(value).summary)"
        case .unknownNamespace:
            let type = random.pick(["foo", "", "PID", "net", "mnt", "user", "time", "pid ", "network\u{0}", "cgroup", "uts"])
            let namespaces = config[["linux", "namespaces"]]?.arrayCount ?? 0
            if namespaces > 0 && random.chance(50) {
                let index = random.below(namespaces)
                config[["linux", "namespaces", .index(index), "type"]] = .string(type)
                return "namespace type \(type.debugDescription) at linux.namespaces[\(index)]"
            }
            config.append(.object(["type": .string(type)]), to: ["linux", "namespaces"])
            return "namespace \(type.debugDescription) added"
        case .duplicateEntry:
            let arrays = paths.filter { ($0.isEmpty ? config : config[$0])?.arrayCount ?? 0 > 0 }
            guard let path = randomElement(arrays), case let .array(items)? = config[path] else { return "no array to duplicate in" }
            var copy = items
            let index = random.below(items.count)
            copy.insert(items[index], at: random.below(items.count + 1))
            config[path] = .array(copy)
            return "duplicated \(path.text)[\(index)]"
        case .emptyContainer:
            let path = random.pick(paths)
            let value: JSONValue = random.chance(50) ? .array([]) : .object([:])
            config[path] = value
            return "emptied \(path.text) to \(value.summary)"
        case .addHook:
            let stage = random.pick(["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"])
            let path = random.pick(escapingPaths(for: .hookPath))
            var hook: [String: JSONValue] = ["path": .string(path), "args": .array([.string("hook"), .string(id)])]
            // Mostly sane timeouts (slow.sh sleeps 2 s); sometimes out of range.
            let timeouts: [String?] = ["1", "5", nil, "0", "-1"]
            if let timeout = random.chance(75) ? random.pick(timeouts) : random.pick(Self.outOfRangeNumbers) {
                hook["timeout"] = .number(timeout)
            }
            if random.chance(30) { hook["env"] = .array([.string("FUZZ=1")]) }
            config.append(.object(hook), to: ["hooks", .key(stage)])
            return "hook hooks.\(stage) \(JSONValue.object(hook).summary)"
        case .addBindMount:
            let mount: [String: JSONValue] = [
                "destination": .string(random.pick(escapingPaths(for: .containerPath))),
                "type": .string("bind"),
                "source": .string(random.pick(escapingPaths(for: .mountSource))),
                "options": .array(random.pick([["rbind"], ["bind", "ro"], ["rbind", "rw", "nosuid"], []]).map(JSONValue.string)),
            ]
            config.append(.object(mount), to: ["mounts"])
            return "bind mount \(JSONValue.object(mount).summary)"
        case .namespacePath:
            let count = config[["linux", "namespaces"]]?.arrayCount ?? 0
            guard count > 0 else { return "no namespace to give a path" }
            let index = random.below(count)
            let path = random.pick(escapingPaths(for: .namespacePath))
            config[["linux", "namespaces", .index(index), "path"]] = .string(path)
            return "linux.namespaces[\(index)].path = \(path.debugDescription)"
        case .cgroupsPath:
            let path = random.pick(escapingPaths(for: .cgroupsPath))
            config[["linux", "cgroupsPath"]] = .string(path)
            return "linux.cgroupsPath = \(path.debugDescription)"
        case .userNamespace:
            let size = random.chance(50) ? random.pick(["65536", "1"]) : random.pick(Self.outOfRangeNumbers)
            let mapping = JSONValue.array([.object(["containerID": .number("0"), "hostID": .number("100000"), "size": .number(size)])])
            config.append(.object(["type": .string("user")]), to: ["linux", "namespaces"])
            config[["linux", "uidMappings"]] = mapping
            config[["linux", "gidMappings"]] = mapping
            return "user namespace with mappings of size \(size)"
        }
    }

    mutating func randomElement<T>(_ items: [T]) -> T? {
        items.isEmpty ? nil : random.pick(items)
    }

    static let outOfRangeNumbers = [
        "-1", "-0", "-0.0", "0.5", "1.5", "1e2", "100.0", "1E-7", "65536", "2147483648", "4294967296",
        "9223372036854775807", "9223372036854775808", "-9223372036854775809", "18446744073709551615",
        "18446744073709551616", "1e308", "-1e308", "1e999",
    ]

    /// A value of another JSON type than `current`.
    mutating func wrongTypeValue(for current: JSONValue?) -> JSONValue {
        let choices: [JSONValue] = [
            .string("fuzz-" + id), .number("7"), .bool(true), .array([]),
            .array([.string("fuzz-" + id)]), .object([:]), .object(["fuzz": .number("1")]), .null,
        ]
        let others = choices.filter { $0.typeName != current?.typeName }
        return random.pick(others)
    }

    /// 64 KiB or more: one path component where a cgroup would be made of
    /// it, no `..` where a host path would.
    mutating func hugeString(for kind: FieldKind) -> String {
        let size = 65_536 + random.below(4096)
        switch kind {
        case .cgroupsPath: return "/vessel-fuzz/\(id)-" + String(repeating: "A", count: size)
        case .rootPath, .hookPath, .mountSource, .namespacePath:
            return random.pick([scene.scratch + "/" + String(repeating: "A", count: size), String(repeating: "B", count: size)])
        case .containerPath, .other: break
        }
        return random.pick([
            String(repeating: "A", count: size),
            String(repeating: "/a", count: size / 2),
            String(repeating: "é", count: size / 2),
            String(repeating: "../", count: size / 3),
        ])
    }

    /// A NUL or a line break (which an error quoting the value must not
    /// pass on) in a string, a lone surrogate, an invalid escape or invalid UTF-8.
    mutating func brokenString(current: JSONValue?, kind: FieldKind) -> JSONValue {
        let text: String
        if case let .string(value)? = current { text = value } else { text = "fuzz-" + id }
        if random.chance(25) {
            return .string(text + random.pick(["\nsecond line", "\r\nsecond line", "\u{1B}[2J", "\u{2028}next"]))
        }
        if random.chance(40) {
            // Where a host path or cgroup is made from it, a cut at the NUL
            // must leave the original: only append.
            if kind != .other || random.chance(50) { return .string(text + "\u{0}junk") }
            let cut = text.index(text.startIndex, offsetBy: random.below(text.count + 1))
            return .string(String(text[..<cut]) + "\u{0}" + String(text[cut...]))
        }
        let raw: [[UInt8]] = [
            Array(#""\ud800""#.utf8), Array(#""\udc00\ud800x""#.utf8), Array(#""\u12""#.utf8),
            Array(#""\x41""#.utf8), Array(#""trailing\""#.utf8), [0x22, 0xFF, 0xFE, 0x22], [0x22, 0xC3, 0x28, 0x22],
            [0x22, 0xC0, 0xAF, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0x01, 0x0A, 0x22],
        ]
        return .raw(random.pick(raw))
    }

    /// Values with `..`, relative and absolute forms and line breaks (which
    /// errors quote) for each kind of path field; host-side ones never leave
    /// the scratch directory, container ones try to (and leave an "escaped"
    /// canary in scratch if they do).
    func escapingPaths(for kind: FieldKind) -> [String] {
        let scratch = scene.scratch
        let up = String(repeating: "../", count: 12)
        let scratchName = URL(fileURLWithPath: scratch).lastPathComponent
        switch kind {
        case .cgroupsPath:
            return [
                "/vessel-fuzz/\(id)", "vessel-fuzz-\(id)", "/vessel/\(id)/../\(id)-up", "/vessel/./\(id)-dot",
                "/vessel//\(id)-double", "\(id)/../\(id)-rel", "/vessel-fuzz/\(id)/deeper/still", "/vessel-fuzz/\(id)\nline",
            ]
        case .rootPath:
            return [
                scene.rootfs, scene.rootfs + "/../rootfs", "rootfs", "../rootfs", "", ".", scratch + "/plain-file",
                scratch + "/fifo", scratch + "/missing", scratch + "/../\(scratchName)/rootfs/", scratch + "/missing\nline",
            ]
        case .hookPath:
            let hooks = scene.hooks
            return [
                hooks + "/ok.sh", hooks + "/fail.sh", hooks + "/slow.sh", hooks + "/plain.txt", hooks,
                hooks + "/missing", hooks + "/../hooks/ok.sh", "hooks/ok.sh", "", scratch + "/fifo", hooks + "/ok.sh\nline",
            ]
        case .mountSource:
            return [
                scratch + "/mnt-src", scratch + "/mnt-src/../mnt-src", "relative-src-\(id)", scratch + "/missing",
                scratch + "/fifo", scratch + "/plain-file", "", scratch + "/missing\r\nline",
            ]
        case .namespacePath:
            return [
                scratch + "/plain-file", scratch + "/missing", scratch + "/mnt-src", "relative/ns-\(id)",
                scratch + "/../\(scratchName)/plain-file", scratch + "/fifo", "", scratch + "/missing\nline",
            ]
        case .containerPath, .other:
            return [
                "/\(up)\(scratch.dropFirst())/escaped-dotdot", "/proc/\(up)\(scratch.dropFirst())/escaped-proc",
                "/fuzz-link/x", "/fuzz-abs/x", "relative/dest", "", "/", "//", "/./././mnt", "/bin/sh",
                "/etc/passwd", "/proc/self/fd/7", "/dev/../dev/../..", "/nonexistent", "/dev/x\nline", "/dev/\u{1B}[2J",
            ]
        }
    }
}

/// The kind of a field by its place in config.json: it decides which
/// values a path mutation may put there.
enum FieldKind: Equatable {
    case cgroupsPath, rootPath, hookPath, mountSource, namespacePath, containerPath, other

    init(_ path: JSONPath) {
        let shape = path.map { step -> String in
            if case let .key(name) = step { return name } else { return "[]" }
        }
        switch shape {
        case ["linux", "cgroupsPath"]: self = .cgroupsPath
        case ["root", "path"]: self = .rootPath
        case ["mounts", "[]", "source"]: self = .mountSource
        case ["linux", "namespaces", "[]", "path"]: self = .namespacePath
        case ["mounts", "[]", "destination"], ["process", "cwd"], ["linux", "maskedPaths", "[]"],
            ["linux", "readonlyPaths", "[]"]:
            self = .containerPath
        default:
            self = shape.count == 4 && shape[0] == "hooks" && shape[2] == "[]" && shape[3] == "path" ? .hookPath : .other
        }
    }
}

// MARK: - A JSON tree that can hold what JSONSerialization cannot write

enum PathStep: Hashable, ExpressibleByStringLiteral {
    case key(String)
    case index(Int)

    init(stringLiteral value: String) { self = .key(value) }
}

typealias JSONPath = [PathStep]

extension JSONPath {
    /// `linux.namespaces[2].type`, for messages.
    var text: String {
        guard !isEmpty else { return "(the whole document)" }
        return reduce(into: "") { text, step in
            switch step {
            case let .key(name): text += text.isEmpty ? name : "." + name
            case let .index(index): text += "[\(index)]"
            }
        }
    }
}

indirect enum JSONValue: Decodable, Equatable {
    case object([String: JSONValue])
    case array([JSONValue])
    case string(String)
    /// The number's JSON text, so that any digits survive.
    case number(String)
    case bool(Bool)
    case null
    /// Bytes written as they are: out-of-range numbers, broken strings, deep nesting.
    case raw([UInt8])

    init(from decoder: Decoder) throws {
        let value = try decoder.singleValueContainer()
        if value.decodeNil() {
            self = .null
        } else if let flag = try? value.decode(Bool.self) {
            self = .bool(flag)
        } else if let integer = try? value.decode(Int64.self) {
            self = .number(String(integer))
        } else if let real = try? value.decode(Double.self) {
            self = .number("\(real)")
        } else if let text = try? value.decode(String.self) {
            self = .string(text)
        } else if let items = try? value.decode([JSONValue].self) {
            self = .array(items)
        } else {
            self = .object(try value.decode([String: JSONValue].self))
        }
    }

    /// Paths never mutated: another developer owns sysctl safety, devices
    /// would create host device nodes, annotations can switch on VM mode.
    static let protected: Set<JSONPath> = [["linux", "sysctl"], ["linux", "devices"], ["annotations"]]

    /// Every path in the tree, the document itself first, keys in sorted
    /// order so that a seed always draws the same paths.
    func paths(under prefix: JSONPath = []) -> [JSONPath] {
        guard !Self.protected.contains(prefix) else { return [] }
        var found = [prefix]
        switch self {
        case let .object(members):
            for key in members.keys.sorted() { found += members[key]?.paths(under: prefix + [.key(key)]) ?? [] }
        case let .array(items):
            for (index, item) in items.enumerated() { found += item.paths(under: prefix + [.index(index)]) }
        default:
            break
        }
        return found
    }

    /// The value at `path`; setting nil removes it, setting where a parent
    /// is missing or of another type does nothing.
    subscript(path: JSONPath) -> JSONValue? {
        get {
            var current: JSONValue? = self
            for step in path {
                switch (current, step) {
                case let (.object(members)?, .key(key)): current = members[key]
                case let (.array(items)?, .index(index)) where items.indices.contains(index): current = items[index]
                default: return nil
                }
            }
            return current
        }
        set {
            guard !path.isEmpty else {
                self = newValue ?? .null
                return
            }
            update(path[...]) { $0 = newValue }
        }
    }

    private mutating func update(_ path: ArraySlice<PathStep>, _ change: (inout JSONValue?) -> Void) {
        guard let step = path.first else { return }
        let rest = path.dropFirst()
        switch (self, step) {
        case (.object(var members), .key(let key)):
            var child = members[key]
            if rest.isEmpty { change(&child) } else { child?.update(rest, change) }
            members[key] = child
            self = .object(members)
        case (.array(var items), .index(let index)) where items.indices.contains(index):
            var child: JSONValue? = items[index]
            if rest.isEmpty { change(&child) } else { child?.update(rest, change) }
            if let child { items[index] = child } else { items.remove(at: index) }
            self = .array(items)
        default:
            return
        }
    }

    /// Appends to the array at `path`, making it (and a missing parent
    /// object) where absent; does nothing where a parent has another type.
    mutating func append(_ item: JSONValue, to path: JSONPath) {
        if path.count > 1, self[Array(path.dropLast())] == nil { self[Array(path.dropLast())] = .object([:]) }
        switch self[path] {
        case let .array(items)?: self[path] = .array(items + [item])
        case nil: self[path] = .array([item])
        default: return
        }
    }

    var arrayCount: Int? {
        if case let .array(items) = self { return items.count } else { return nil }
    }

    var typeName: String {
        switch self {
        case .object: return "object"
        case .array: return "array"
        case .string: return "string"
        case .number: return "number"
        case .bool: return "bool"
        case .null: return "null"
        case .raw: return "raw"
        }
    }

    /// A short description for failure messages (huge values abridged).
    var summary: String {
        let text = String(decoding: serialized(), as: UTF8.self)
        guard text.utf8.count > 160 else { return text }
        return "\(text.prefix(80))… (\(text.utf8.count) bytes)"
    }

    func serialized() -> [UInt8] {
        var out: [UInt8] = []
        write(into: &out)
        return out
    }

    func write(into out: inout [UInt8]) {
        switch self {
        case let .object(members):
            out.append(UInt8(ascii: "{"))
            for (index, key) in members.keys.sorted().enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                Self.writeString(key, into: &out)
                out.append(UInt8(ascii: ":"))
                members[key]?.write(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        case let .array(items):
            out.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                item.write(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case let .string(text): Self.writeString(text, into: &out)
        case let .number(text): out += Array(text.utf8)
        case let .bool(flag): out += Array((flag ? "true" : "false").utf8)
        case .null: out += Array("null".utf8)
        case let .raw(bytes): out += bytes
        }
    }

    static func writeString(_ text: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                out += [UInt8(ascii: "\\"), byte]
            case 0..<0x20:
                let hex = String(byte, radix: 16)
                out += Array(("\\u00" + (hex.count < 2 ? "0" : "") + hex).utf8)
            default:
                out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

// MARK: - A small deterministic generator

/// SplitMix64 (Steele, Lea and Flood): tiny, fast, and the same sequence
/// on every platform for a seed, which is all a replayable fuzzer needs.
struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }

    /// 0..<bound; bound must be positive.
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

    mutating func chance(_ percent: Int) -> Bool { below(100) < percent }

    /// One of `items`, which must not be empty.
    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
}
