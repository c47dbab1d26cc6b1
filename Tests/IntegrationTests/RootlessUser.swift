import Foundation
import Synchronization
import XCTest

// A user made for rootless tests, with subordinate ids of its own: useradd
// (home under /home, no automatic subordinate ids), one range appended to
// /etc/subuid and /etc/subgid, and /run/user/<uid> as its XDG_RUNTIME_DIR.
// `remove` kills its processes and takes back everything it added.
final class RootlessUser: Sendable {
    let name: String
    let uid: uid_t
    let gid: gid_t
    let home: String
    let runtimeDir: String
    /// The first of 65536 subordinate uids and gids.
    let subordinateStart: UInt32
    static let subordinateCount: UInt32 = 65536

    init() throws {
        guard getuid() == 0 else { throw XCTSkip("rootless tests create a user: they need root") }
        for tool in ["/usr/sbin/useradd", "/usr/sbin/userdel", "/usr/sbin/runuser"] where !FileManager.default.isExecutableFile(atPath: tool) {
            throw XCTSkip("\(tool) is missing (Debian's passwd and util-linux)")
        }
        name = "vrl" + UUID().uuidString.prefix(6).lowercased()
        let add = try Harness.execute(
            "/usr/sbin/useradd",
            [
                "--create-home", "--shell", "/bin/sh",
                "-K", "SUB_UID_COUNT=0", "-K", "SUB_GID_COUNT=0", name,
            ])
        guard add.code == 0, let entry = getpwnam(name) else { throw XCTSkip("useradd \(name) failed: \(add.stderr)") }
        uid = entry.pointee.pw_uid
        gid = entry.pointee.pw_gid
        home = String(cString: entry.pointee.pw_dir)
        runtimeDir = "/run/user/\(uid)"
        subordinateStart = Self.freeRangeStart()
        for file in ["/etc/subuid", "/etc/subgid"] {
            try Self.rewrite(file) { $0 + ["\(name):\(subordinateStart):\(Self.subordinateCount)"] }
        }
        try FileManager.default.createDirectory(atPath: runtimeDir, withIntermediateDirectories: true)
        chown(runtimeDir, uid, gid)
        chmod(runtimeDir, 0o700)
    }

    /// A subordinate range after every range in /etc/subuid and /etc/subgid.
    static func freeRangeStart() -> UInt32 {
        var end: UInt64 = 200_000
        for file in ["/etc/subuid", "/etc/subgid"] {
            let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
            for line in text.split(separator: "\n") {
                let fields = line.split(separator: ":")
                if fields.count == 3, let start = UInt64(fields[1]), let count = UInt64(fields[2]) {
                    end = max(end, start + count)
                }
            }
        }
        let count = UInt64(subordinateCount)
        return UInt32((end + count - 1) / count * count)
    }

    /// Replaces `file`'s lines with `change`'s result (atomically).
    static func rewrite(_ file: String, _ change: ([String]) -> [String]) throws {
        let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
        let lines = change(text.split(separator: "\n").map(String.init))
        let temporary = file + ".vessel-test"
        try (lines.map { $0 + "\n" }.joined()).write(toFile: temporary, atomically: false, encoding: .utf8)
        chmod(temporary, 0o644)
        guard rename(temporary, file) == 0 else { throw XCTSkip("cannot replace \(file): errno \(errno)") }
    }

    /// The user's environment: a clean one, as a login would give.
    var environment: [String] {
        [
            "HOME=\(home)", "USER=\(name)", "LOGNAME=\(name)", "PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
            "XDG_RUNTIME_DIR=\(runtimeDir)",
        ]
    }

    /// `program args...` run as the user (runuser, env -i).
    func run(_ program: String, _ args: [String], stdin: String? = nil) throws -> Outcome {
        try Harness.execute("/usr/sbin/runuser", runuserArguments(program, args), stdin: stdin)
    }

    func runuserArguments(_ program: String, _ args: [String]) -> [String] {
        ["-u", name, "--", "/usr/bin/env", "-i"] + environment + [program] + args
    }

    /// The user's live processes (zombies are dead already).
    func processes() -> [String] {
        let pids = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).filter { Int32($0) != nil }
        return pids.compactMap { pid in
            guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
                !status.contains("State:\tZ")
            else { return nil }
            let uidLine = status.split(separator: "\n").first { $0.hasPrefix("Uid:") } ?? ""
            guard let real = uidLine.split(separator: "\t").dropFirst().first.flatMap({ UInt32($0) }),
                real == uid || (subordinateStart..<subordinateStart + Self.subordinateCount).contains(real)
            else { return nil }
            let command = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? ""
            return "\(pid) " + command.replacingOccurrences(of: "\0", with: " ")
        }
    }

    /// Waits (bounded, 5 s) until the user has no live process left.
    func waitForNoProcesses() -> [String] {
        for _ in 0..<250 {
            if processes().isEmpty { return [] }
            usleep(20_000)
        }
        return processes()
    }

    /// Kills what the user still runs (ours: the user is the test's), then
    /// removes the user, its home, runtime directory and subordinate ids.
    func remove() {
        for entry in processes() {
            if let pid = Int32(entry.split(separator: " ")[0]) { kill(pid, SIGKILL) }
        }
        _ = waitForNoProcesses()
        for file in ["/etc/subuid", "/etc/subgid"] {
            try? Self.rewrite(file) { $0.filter { !$0.hasPrefix(name + ":") } }
        }
        try? FileManager.default.removeItem(atPath: runtimeDir)
        _ = try? Harness.execute("/usr/sbin/userdel", ["--remove", name])
        // Files a container made as a subordinate id are not the user's.
        try? FileManager.default.removeItem(atPath: home)
    }
}

/// One RootlessUser for a test class: made (with RootlessTests.makeUser) by
/// the class's first test, removed by its class tearDown.
final class ClassRootlessUser: Sendable {
    private let user = Mutex<RootlessUser?>(nil)

    func get() throws -> RootlessUser {
        try user.withLock { user in
            if let user { return user }
            let made = try RootlessTests.makeUser()
            user = made
            return made
        }
    }

    func remove() {
        user.withLock { user in
            user?.remove()
            user = nil
        }
    }
}
