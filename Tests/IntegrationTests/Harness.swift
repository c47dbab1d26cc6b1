import Foundation
import XCTest

// Runs the real vessel binary, as root, against bundles made from the
// busybox rootfs. Each test gets its own --root and bundle directory and
// removes them afterwards.
struct Outcome {
    let code: Int32
    let stdout: String
    let stderr: String
}

final class Harness {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path
    static let vesselBinary =
        ProcessInfo.processInfo.environment["VESSEL_BINARY"]
        ?? packageRoot + "/.build/debug/vessel"
    static let rootfs = packageRoot + "/bundles/busybox/rootfs"
    static let baseConfig = packageRoot + "/bundles/busybox/config.json"

    let stateRoot: String
    let scratch: String

    /// Skips (with the reason) where integration tests cannot run.
    init() throws {
        guard getuid() == 0 else { throw XCTSkip("integration tests need root") }
        guard FileManager.default.isExecutableFile(atPath: Self.vesselBinary) else {
            throw XCTSkip("no vessel binary at \(Self.vesselBinary): run `swift build` first")
        }
        guard FileManager.default.fileExists(atPath: Self.rootfs + "/bin/busybox") else {
            throw XCTSkip("no busybox rootfs: run bundles/busybox/build-rootfs.sh")
        }
        let controllers = "/sys/fs/cgroup/cgroup.controllers"
        guard FileManager.default.fileExists(atPath: controllers),
            !FileManager.default.fileExists(atPath: "/sys/fs/cgroup/unified")
        else {
            throw XCTSkip("/sys/fs/cgroup is not cgroup2: run the suite under scripts/cgroup2-ns")
        }
        scratch = NSTemporaryDirectory() + "vessel-test-" + UUID().uuidString
        stateRoot = scratch + "/state"
        try FileManager.default.createDirectory(atPath: stateRoot, withIntermediateDirectories: true)
    }

    /// The busybox config, changed by `modify`, written into a new bundle
    /// whose root.path points at the shared busybox rootfs.
    func bundle(_ modify: (inout [String: Any]) -> Void = { _ in }) throws -> String {
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.baseConfig))
        var config = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        config["root"] = ["path": Self.rootfs, "readonly": true]
        modify(&config)
        let dir = scratch + "/bundle-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let out = try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted])
        try out.write(to: URL(fileURLWithPath: dir + "/config.json"))
        return dir
    }

    /// A bundle whose process runs `sh -c script`.
    func shellBundle(_ script: String, _ modify: (inout [String: Any]) -> Void = { _ in }) throws -> String {
        try bundle { config in
            var process = config["process"] as? [String: Any] ?? [:]
            process["args"] = ["sh", "-c", script]
            config["process"] = process
            modify(&config)
        }
    }

    /// `vessel --root <ours> args...`
    @discardableResult
    func vessel(_ args: [String], stdin: String? = nil) throws -> Outcome {
        try Self.execute(Self.vesselBinary, ["--root", stateRoot] + args, stdin: stdin)
    }

    static func execute(_ path: String, _ args: [String], stdin: String? = nil) throws -> Outcome {
        let running = try start(path, args, stdin: stdin)
        running.wait()
        return running.outcome()
    }

    /// A started command. Output goes to files, not pipes: a detached
    /// container inherits them and would hold a pipe open forever. Spawned
    /// with posix_spawn and reaped with waitpid: Foundation's Process waits
    /// for its pipes to close as well.
    final class Running {
        let pid: pid_t
        let base: String
        private(set) var status: Int32 = -1

        init(pid: pid_t, base: String) {
            self.pid = pid
            self.base = base
        }

        func wait() {
            guard status == -1 else { return }
            var raw: Int32 = 0
            while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
            record(raw)
        }

        /// Waits at most `seconds`; false (and the command still running)
        /// when it did not exit in time.
        func wait(timeoutSeconds seconds: Double) -> Bool {
            guard status == -1 else { return true }
            let deadline = Date().addingTimeInterval(seconds)
            var raw: Int32 = 0
            while Date() < deadline {
                let reaped = waitpid(pid, &raw, WNOHANG)
                if reaped == pid {
                    record(raw)
                    return true
                }
                if reaped < 0 && errno != EINTR { break }
                usleep(2000)
            }
            return false
        }

        /// The signal that ended the command, if one did.
        private(set) var signal: Int32?

        private func record(_ raw: Int32) {
            signal = raw & 0x7f == 0 ? nil : raw & 0x7f
            status = raw & 0x7f == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
        }

        func outcome() -> Outcome {
            wait()
            let out = (try? String(contentsOfFile: base + ".out", encoding: .utf8)) ?? ""
            let err = (try? String(contentsOfFile: base + ".err", encoding: .utf8)) ?? ""
            for suffix in [".out", ".err", ".in"] { try? FileManager.default.removeItem(atPath: base + suffix) }
            return Outcome(code: status, stdout: out, stderr: err)
        }
    }

    /// `newSession`: in a session of its own, without a controlling terminal,
    /// so that what it does does not depend on where the tests were started.
    static func start(_ path: String, _ args: [String], stdin: String? = nil, newSession: Bool = false) throws -> Running {
        let base = NSTemporaryDirectory() + "vessel-out-" + UUID().uuidString
        try Data((stdin ?? "").utf8).write(to: URL(fileURLWithPath: base + ".in"))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, base + ".in", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, base + ".out", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, base + ".err", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let argv = ([path] + args).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        if newSession { posix_spawnattr_setflags(&attributes, 0x80) }  // POSIX_SPAWN_SETSID (glibc), not imported
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, &attributes, argv, environ)
        guard rc == 0 else { throw XCTSkip("cannot spawn \(path): \(rc)") }
        return Running(pid: pid, base: base)
    }

    /// `run` in the foreground, returning the container's output.
    func run(_ bundle: String, id: String = "t-" + UUID().uuidString.prefix(8).lowercased()) throws -> Outcome {
        try vessel(["run", "--bundle", bundle, id])
    }

    func state(_ id: String) throws -> [String: Any]? {
        let outcome = try vessel(["state", id])
        guard outcome.code == 0 else { return nil }
        return try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any]
    }

    func status(_ id: String) throws -> String? { try state(id)?["status"] as? String }

    /// Polls `state` (bounded, 5 s) until the container reaches `wanted`.
    @discardableResult
    func waitForStatus(_ id: String, _ wanted: String) throws -> String? {
        var current: String?
        for _ in 0..<250 {
            current = try status(id)
            if current == wanted { break }
            usleep(20_000)
        }
        return current
    }

    /// Whatever a test left: containers force-deleted, directories removed.
    func cleanUp() {
        let ids = (try? FileManager.default.contentsOfDirectory(atPath: stateRoot)) ?? []
        for id in ids { _ = try? vessel(["delete", "--force", id]) }
        try? FileManager.default.removeItem(atPath: scratch)
        // The default parent cgroup vessel made; rmdir fails while any
        // container still uses it, which is what we want.
        rmdir("/sys/fs/cgroup/vessel")
    }

    /// Removes a cgroup a test made by hand, children first: thawed, its
    /// processes (the test's own) killed, each rmdir retried while busy.
    static func removeCgroup(_ dir: String) {
        guard FileManager.default.fileExists(atPath: dir) else { return }
        let children = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        for child in children where isDirectory(dir + "/" + child) { removeCgroup(dir + "/" + child) }
        try? "0".write(toFile: dir + "/cgroup.freeze", atomically: false, encoding: .utf8)
        try? "1".write(toFile: dir + "/cgroup.kill", atomically: false, encoding: .utf8)
        for _ in 0..<500 where rmdir(dir) != 0 && errno == EBUSY { usleep(2000) }
    }

    static func isDirectory(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
    }

    /// Nothing of the container is left on the host.
    func assertNoTrace(_ id: String, file: StaticString = #filePath, line: UInt = #line) {
        for trace in traces(of: id) {
            XCTFail(trace, file: file, line: line)
        }
    }

    /// What the container left on the host: its state directory, its cgroup
    /// (the default one and any of `cgroups`, paths under /sys/fs/cgroup) or
    /// a mount naming it. Empty when nothing is left.
    func traces(of id: String, cgroups: [String] = []) -> [String] {
        var found: [String] = []
        if FileManager.default.fileExists(atPath: stateRoot + "/" + id) { found.append("state directory left") }
        for cgroup in ["/vessel/" + id] + cgroups where FileManager.default.fileExists(atPath: "/sys/fs/cgroup" + cgroup) {
            found.append("cgroup left: \(cgroup)")
        }
        let mounts = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
        if mounts.contains(id) { found.append("mount left") }
        return found
    }

    /// Pids (with their command lines) whose command line or cgroup names
    /// `needle`: host-wide, so only for ids no other process could use.
    /// Zombies are dead already (reaping them is their parent's business).
    static func processes(mentioning needle: String) -> [String] {
        let pids = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).filter { Int32($0) != nil }
        return pids.compactMap { pid in
            let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
            guard let state = stat.split(separator: ")").last?.split(separator: " ").first, state != "Z" else { return nil }
            guard let cmdline = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline")) else { return nil }
            let command = String(decoding: cmdline.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
            let cgroup = (try? String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8)) ?? ""
            return command.contains(needle) || cgroup.contains(needle) ? "\(pid) \(command)" : nil
        }
    }
}

extension Dictionary where Key == String, Value == Any {
    /// config["linux"]["x"] = value, creating "linux" if needed.
    mutating func setLinux(_ key: String, _ value: Any) {
        var linux = self["linux"] as? [String: Any] ?? [:]
        linux[key] = value
        self["linux"] = linux
    }

    mutating func setProcess(_ key: String, _ value: Any) {
        var process = self["process"] as? [String: Any] ?? [:]
        process[key] = value
        self["process"] = process
    }
}
