import Foundation
import XCTest

// vessel run by a user without root, on bundles from `vessel spec
// --rootless`: a user namespace mapping the user's own uid (or, through
// newuidmap, subordinate ids too), the state under $XDG_RUNTIME_DIR/vessel,
// no cgroup unless one is delegated. Each property is proven from inside
// the container or on the host, never from vessel's own report.
final class RootlessTests: XCTestCase {
    /// One user (and its copies of vessel and the rootfs) for the class.
    static let shared = ClassRootlessUser()
    var harness: Harness!
    var user: RootlessUser!
    var vessel = ""

    override func setUpWithError() throws {
        harness = try Harness()
        user = try Self.shared.get()
        vessel = user.home + "/vessel"
    }

    override func tearDown() {
        if let user {
            let root = user.runtimeDir + "/vessel"
            for id in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] {
                _ = try? user.run(vessel, ["delete", "--force", id])
            }
        }
        harness?.cleanUp()
    }

    override class func tearDown() {
        shared.remove()
    }

    /// The user, with a copy of the binary and of the rootfs it owns (as a
    /// user's unpacked image is), in its home.
    static func makeUser() throws -> RootlessUser {
        let user = try RootlessUser()
        let copies = [(Harness.vesselBinary, user.home + "/vessel"), (Harness.rootfs, user.home + "/rootfs")]
        for (source, copy) in copies {
            let outcome = try Harness.execute("/bin/cp", ["-a", source, copy])
            guard outcome.code == 0 else { throw XCTSkip("cp \(source): \(outcome.stderr)") }
            _ = try Harness.execute("/bin/chown", ["-R", "\(user.uid):\(user.gid)", copy])
        }
        return user
    }

    /// A bundle made by `vessel spec --rootless` as the user, changed by
    /// `modify`, with a /data bind of a directory the user owns.
    func bundle(_ script: String, _ modify: (inout [String: Any]) -> Void = { _ in }) throws -> (bundle: String, data: String) {
        let dir = user.home + "/b-" + UUID().uuidString.prefix(8)
        for path in [dir, dir + "/data"] {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
            chown(path, user.uid, user.gid)
        }
        let spec = try user.run(vessel, ["spec", "--rootless", "--bundle", dir])
        XCTAssertEqual(spec.code, 0, spec.stderr)
        let url = URL(fileURLWithPath: dir + "/config.json")
        var config = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        config["root"] = ["path": user.home + "/rootfs", "readonly": true]
        config.setProcess("terminal", false)
        config.setProcess("args", ["sh", "-c", script])
        var mounts = config["mounts"] as? [[String: Any]] ?? []
        mounts.append(["destination": "/data", "type": "bind", "source": dir + "/data", "options": ["rbind", "rw"]])
        config["mounts"] = mounts
        modify(&config)
        try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted]).write(to: url)
        return (dir, dir + "/data")
    }

    @discardableResult
    func vessel(_ args: [String]) throws -> Outcome { try user.run(vessel, args) }

    /// No state directory and no process of the user is left.
    func assertNothingLeft(_ id: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertFalse(
            FileManager.default.fileExists(atPath: user.runtimeDir + "/vessel/" + id), "state directory left",
            file: file, line: line)
        XCTAssertEqual(user.waitForNoProcesses(), [], "processes left", file: file, line: line)
    }

    func owner(_ path: String) -> uid_t? {
        var info = stat()
        return stat(path, &info) == 0 ? info.st_uid : nil
    }

    func testRunIsRootInsideAndTheUserOutside() throws {
        let (bundle, data) = try bundle("id -u; id -g; cat /proc/self/uid_map; cat /proc/self/gid_map; echo hi > /data/made-inside")
        let outcome = try vessel(["run", "--bundle", bundle, "rl1"])
        XCTAssertEqual(outcome.code, 0, outcome.stderr)
        let lines = outcome.stdout.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }
        XCTAssertEqual(lines, ["0", "0", "0 \(user.uid) 1", "0 \(user.gid) 1"])
        XCTAssertEqual(owner(data + "/made-inside"), user.uid, "what container root makes is the user's on the host")
        assertNothingLeft("rl1")
    }

    func testLifecycleAsTheUser() throws {
        let (bundle, _) = try bundle("sleep 1000")
        XCTAssertEqual(try vessel(["create", "--bundle", bundle, "rl2"]).code, 0)
        XCTAssertTrue(
            FileManager.default.fileExists(atPath: user.runtimeDir + "/vessel/rl2/state.json"),
            "the state lives under $XDG_RUNTIME_DIR/vessel")
        XCTAssertTrue(try vessel(["state", "rl2"]).stdout.contains("\"created\""))
        XCTAssertEqual(try vessel(["start", "rl2"]).code, 0)
        let state = try vessel(["state", "rl2"])
        XCTAssertTrue(state.stdout.contains("\"running\""), state.stdout + state.stderr)
        let list = try vessel(["list"])
        XCTAssertTrue(list.stdout.contains(user.name), "owner: " + list.stdout)

        let exec = try vessel(["exec", "rl2", "sh", "-c", "id -u; cat /proc/self/uid_map; ps -o comm"])
        XCTAssertEqual(exec.code, 0, exec.stderr)
        let lines = exec.stdout.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }
        XCTAssertEqual(Array(lines.prefix(2)), ["0", "0 \(user.uid) 1"])
        XCTAssertTrue(lines.contains("sleep"), "exec is in the container's pid namespace: \(lines)")
        let ps = try vessel(["ps", "--format", "json", "rl2"])
        XCTAssertEqual(ps.code, 0, ps.stderr)
        XCTAssertFalse(ps.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[]", "ps lists the container without a cgroup")

        XCTAssertEqual(try vessel(["kill", "rl2", "KILL"]).code, 0)
        var status = ""
        for _ in 0..<250 where !status.contains("\"stopped\"") {
            status = try vessel(["state", "rl2"]).stdout
            usleep(20_000)
        }
        XCTAssertTrue(status.contains("\"stopped\""), status)
        XCTAssertEqual(try vessel(["delete", "rl2"]).code, 0)
        assertNothingLeft("rl2")
    }

    /// A user's runtime cannot reach a non-dumpable init's /proc files (its
    /// id maps, its namespaces), so a rootless init re-executes vessel
    /// (InitLaunch); `exec` still starts in place, and joins the init's
    /// namespaces both before and after `start`.
    func testExecIntoACreatedContainerJoinsTheInitsNamespaces() throws {
        let (bundle, _) = try bundle("sleep 1000")
        let create = try vessel(["--debug", "create", "--bundle", bundle, "rl7"])
        XCTAssertEqual(create.code, 0, create.stderr)
        XCTAssertTrue(create.stderr.contains("re-executing vessel: a runtime that is not root"), create.stderr)
        let pid = try XCTUnwrap(
            Int32(
                try vessel(["state", "rl7"]).stdout
                    .split(separator: "\n").first { $0.contains("\"pid\"") }?.filter(\.isNumber) ?? ""))
        let names = ["pid", "user", "mnt", "net"]
        let initNamespaces = try names.map { try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/\($0)") }
        let script = "id -u; for n in \(names.joined(separator: " ")); do readlink /proc/self/ns/$n; done"
        for step in ["created", "running"] {
            if step == "running" { XCTAssertEqual(try vessel(["start", "rl7"]).code, 0) }
            let exec = try vessel(["--debug", "exec", "rl7", "sh", "-c", script])
            XCTAssertEqual(exec.code, 0, exec.stderr)
            XCTAssertTrue(exec.stderr.contains("cloned in place"), exec.stderr)
            XCTAssertEqual(exec.stdout.split(separator: "\n").map(String.init), ["0"] + initNamespaces, step)
        }
        XCTAssertEqual(try vessel(["delete", "--force", "rl7"]).code, 0)
        assertNothingLeft("rl7")
    }

    func testKillAllAndForcedDeleteWithoutACgroup() throws {
        let (bundle, _) = try bundle("sleep 1000 & sleep 1000 & wait")
        XCTAssertEqual(try vessel(["run", "-d", "--bundle", bundle, "rl3"]).code, 0)
        XCTAssertEqual(try vessel(["kill", "--all", "rl3", "KILL"]).code, 0)
        XCTAssertEqual(user.waitForNoProcesses(), [], "kill --all reaches every process of the pid namespace")
        XCTAssertEqual(try vessel(["run", "-d", "--bundle", bundle, "rl4"]).code, 0)
        XCTAssertEqual(try vessel(["delete", "--force", "rl4"]).code, 0)
        XCTAssertEqual(try vessel(["delete", "rl3"]).code, 0)
        assertNothingLeft("rl3")
        assertNothingLeft("rl4")
    }

    /// More than the user's own id: newuidmap and newgidmap map the
    /// subordinate ranges from /etc/subuid and /etc/subgid.
    func testSubordinateIDsThroughNewuidmap() throws {
        guard let helper = ["/usr/bin/newuidmap"].first(where: FileManager.default.isExecutableFile) else {
            throw XCTSkip("newuidmap is not installed (Debian's uidmap package)")
        }
        var info = stat()
        guard stat(helper, &info) == 0, info.st_mode & S_ISUID != 0 else { throw XCTSkip("\(helper) is not setuid root") }
        let start = user.subordinateStart
        let (bundle, data) = try bundle("cat /proc/self/uid_map /proc/self/gid_map; touch /data/f") { config in
            config.setProcess("user", ["uid": 1000, "gid": 1000])
            config.setLinux(
                "uidMappings",
                [
                    ["containerID": 0, "hostID": self.user.uid, "size": 1],
                    ["containerID": 1, "hostID": start, "size": 65536],
                ])
            config.setLinux(
                "gidMappings",
                [
                    ["containerID": 0, "hostID": self.user.gid, "size": 1],
                    ["containerID": 1, "hostID": start, "size": 65536],
                ])
        }
        chmod(data, 0o777)
        let outcome = try vessel(["run", "--bundle", bundle, "rl5"])
        XCTAssertEqual(outcome.code, 0, outcome.stderr)
        let lines = outcome.stdout.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }
        XCTAssertEqual(lines, ["0 \(user.uid) 1", "1 \(start) 65536", "0 \(user.gid) 1", "1 \(start) 65536"])
        XCTAssertEqual(owner(data + "/f"), start + 999, "container uid 1000 is subordinate uid start+999 on the host")
        assertNothingLeft("rl5")
    }

    /// What a user cannot have is one line naming the field, before
    /// anything is made.
    func testWhatAUserCannotHaveIsOneLineNamingTheField() throws {
        let cases: [(String, (inout [String: Any]) -> Void)] = [
            ("linux.resources.pids.limit", { $0.setLinux("resources", ["pids": ["limit": 10]]) }),
            ("linux.devices[0]", { $0.setLinux("devices", [["type": "c", "path": "/dev/vessel-none", "major": 1, "minor": 3]]) }),
            (
                "linux.namespaces[6].path",
                { config in
                    var namespaces = (config["linux"] as? [String: Any])?["namespaces"] as? [[String: Any]] ?? []
                    namespaces.append(["type": "network", "path": "/proc/1/ns/net"])
                    config.setLinux("namespaces", namespaces)
                }
            ),
            (
                "linux.namespaces",
                { config in
                    var linux = config["linux"] as? [String: Any] ?? [:]
                    let namespaces = linux["namespaces"] as? [[String: Any]] ?? []
                    linux["namespaces"] = namespaces.filter { $0["type"] as? String != "user" }
                    linux["uidMappings"] = nil
                    linux["gidMappings"] = nil
                    config["linux"] = linux
                }
            ),
        ]
        for (index, (field, modify)) in cases.enumerated() {
            let (bundle, _) = try bundle("true", modify)
            let outcome = try vessel(["run", "--bundle", bundle, "rl-bad\(index)"])
            XCTAssertEqual(outcome.code, 1, field)
            XCTAssertTrue(outcome.stderr.contains("config.json: \(field):"), outcome.stderr)
            XCTAssertEqual(outcome.stderr.split(separator: "\n").count, 1, outcome.stderr)
            assertNothingLeft("rl-bad\(index)")
        }
    }

    /// A cgroup v2 subtree delegated to the user (chowned, and vessel
    /// started inside it) is used: the container gets a cgroup under
    /// vessel's own, and pause works.
    func testADelegatedCgroupIsUsed() throws {
        let delegated = "/sys/fs/cgroup/" + user.name
        XCTAssertEqual(mkdir(delegated, 0o755), 0)
        defer { Harness.removeCgroup(delegated) }
        for file in ["", "/cgroup.procs", "/cgroup.subtree_control", "/cgroup.threads"] {
            XCTAssertEqual(chown(delegated + file, user.uid, user.gid), 0, file)
        }
        let (bundle, _) = try bundle("sleep 1000")
        // Root moves the shell in; the user could not (the move needs the
        // common ancestor's cgroup.procs).
        let command =
            "echo $$ > \(delegated)/cgroup.procs && exec /usr/sbin/runuser "
            + user.runuserArguments(vessel, ["run", "-d", "--bundle", bundle, "rl6"]).joined(separator: " ")
        let run = try Harness.execute("/bin/sh", ["-c", command])
        XCTAssertEqual(run.code, 0, run.stderr)
        let pid = try XCTUnwrap(
            Int32(
                try vessel(["state", "rl6"]).stdout
                    .split(separator: "\n").first { $0.contains("\"pid\"") }?.filter(\.isNumber) ?? ""))
        let cgroup = try String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(cgroup.filter { $0.hasPrefix("0::") }, ["0::/\(user.name)/rl6"])
        XCTAssertEqual(try vessel(["pause", "rl6"]).code, 0)
        XCTAssertTrue(try vessel(["state", "rl6"]).stdout.contains("\"paused\""))
        XCTAssertEqual(try vessel(["resume", "rl6"]).code, 0)
        XCTAssertEqual(try vessel(["delete", "--force", "rl6"]).code, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: delegated + "/rl6"), "the container's cgroup is removed")
        assertNothingLeft("rl6")
    }
}
