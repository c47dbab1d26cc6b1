import Foundation
import XCTest

// Each test proves an isolation property from inside the container, through
// what the busybox shell prints.
final class IsolationTests: XCTestCase {
    var harness: Harness!

    override func setUpWithError() throws { harness = try Harness() }
    override func tearDown() { harness?.cleanUp() }

    /// Runs `script` in a bundle changed by `modify`; fails the test unless it exits 0.
    func output(
        _ script: String, file: StaticString = #filePath, line: UInt = #line,
        _ modify: (inout [String: Any]) -> Void = { _ in }
    ) throws -> String {
        let outcome = try harness.run(try harness.shellBundle(script, modify))
        XCTAssertEqual(outcome.code, 0, "stderr: \(outcome.stderr) stdout: \(outcome.stdout)", file: file, line: line)
        return outcome.stdout
    }

    static var tmpfsAtTmp: [String: Any] {
        [
            "destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "mode=1777"],
        ]
    }

    static func addMount(_ mount: [String: Any], to config: inout [String: Any]) {
        var mounts = config["mounts"] as? [[String: Any]] ?? []
        mounts.append(mount)
        config["mounts"] = mounts
    }

    static func hostControllers() -> [String] {
        let text = (try? String(contentsOfFile: "/sys/fs/cgroup/cgroup.controllers", encoding: .utf8)) ?? ""
        return text.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
    }

    // MARK: namespaces

    func testPidNamespace() throws {
        let out = try output("echo $$; ps")
        let lines = out.split(separator: "\n")
        XCTAssertEqual(lines.first, "1", out)
        // `ps`: a header, the shell (pid 1) and ps itself.
        XCTAssertLessThanOrEqual(lines.count - 1, 4, out)
        XCTAssertFalse(out.contains("xctest"), out)
        XCTAssertFalse(out.contains("vessel"), out)
    }

    func testHostnameFromConfig() throws {
        XCTAssertEqual(try output("hostname"), "vessel\n")
        XCTAssertEqual(try output("hostname") { $0["hostname"] = "custom-host" }, "custom-host\n")
    }

    func testNoHostFilesAfterPivotRoot() throws {
        let name = "vessel-visible-" + UUID().uuidString
        let hostFile = "/tmp/" + name
        try Data("x".utf8).write(to: URL(fileURLWithPath: hostFile))
        defer { try? FileManager.default.removeItem(atPath: hostFile) }
        let out = try output(
            "test -e /tmp/\(name) && echo visible || echo absent; test -e /work && echo work || echo nowork; test -e \(harness.scratch) && echo scratch || echo noscratch")
        XCTAssertEqual(out, "absent\nnowork\nnoscratch\n")
    }

    func testNetworkNamespaceHasOnlyLoopback() throws {
        XCTAssertEqual(try output("ls /sys/class/net"), "lo\n")
        let dev = try output("cat /proc/net/dev")
        let interfaces = dev.split(separator: "\n").dropFirst(2).map {
            $0.split(separator: ":").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        }
        XCTAssertEqual(interfaces, ["lo"], dev)
    }

    func testOwnCgroupNamespaceAndHostMembership() throws {
        // The host is a v1/v2 hybrid: v1 lines appear too; the v2 line is "0::/".
        let cgroups = try output("cat /proc/self/cgroup")
        XCTAssertEqual(cgroups.split(separator: "\n").filter { $0.hasPrefix("0::") }, ["0::/"], cgroups)
        let bundle = try harness.shellBundle("sleep 100")
        let started = try harness.vessel(["run", "-d", "--bundle", bundle, "cg1"])
        XCTAssertEqual(started.code, 0, started.stderr)
        let pid = try XCTUnwrap(try harness.state("cg1")?["pid"] as? Int)
        let procs = try String(contentsOfFile: "/sys/fs/cgroup/vessel/cg1/cgroup.procs", encoding: .utf8)
        XCTAssertTrue(procs.split(separator: "\n").contains(Substring(String(pid))), "pid \(pid) not in \(procs)")
        XCTAssertEqual(try harness.vessel(["delete", "--force", "cg1"]).code, 0)
        harness.assertNoTrace("cg1")
    }

    func testUserNamespaceMapping() throws {
        let out = try output("cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g") { config in
            var namespaces = (config["linux"] as? [String: Any])?["namespaces"] as? [[String: Any]] ?? []
            namespaces.append(["type": "user"])
            config.setLinux("namespaces", namespaces)
            config.setLinux("uidMappings", [["containerID": 0, "hostID": 100000, "size": 65536]])
            config.setLinux("gidMappings", [["containerID": 0, "hostID": 100000, "size": 65536]])
        }
        let lines = out.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
        XCTAssertEqual(lines, ["0 100000 65536", "0 100000 65536", "0", "0"], out)
    }

    // MARK: filesystem

    func testReadOnlyRootfs() throws {
        let outcome = try harness.run(try harness.shellBundle("touch /x && echo wrote || echo refused"))
        XCTAssertEqual(outcome.stdout, "refused\n", outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("Read-only file system"), outcome.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: Harness.rootfs + "/x"))
    }

    func testMaskedAndReadonlyPaths() throws {
        // This host has no /proc/kcore; /proc/keys and /proc/timer_list exist.
        // A masked file is /dev/null bound over it (char 1,3), a masked
        // directory an empty read-only tmpfs.
        let out = try output(
            """
            stat -c %t,%T /proc/keys; wc -c < /proc/keys; stat -c %t,%T /proc/timer_list; \
            stat -f -c %T /proc/acpi; ls /proc/acpi | wc -l; \
            echo 1 > /proc/sys/kernel/sysrq 2>/dev/null && echo written || echo refused; \
            echo 1 > /proc/sysrq-trigger 2>/dev/null && echo written || echo refused
            """)
        let lines = out.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        XCTAssertEqual(lines, ["1,3", "0", "1,3", "tmpfs", "0", "refused", "refused"], out)
    }

    // MARK: process security

    func testDefaultCapabilities() throws {
        let out = try output("grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb)' /proc/self/status")
        let caps = parseStatus(out)
        // CAP_AUDIT_WRITE(29) | CAP_KILL(5) | CAP_NET_BIND_SERVICE(10)
        for key in ["CapPrm", "CapEff", "CapBnd"] {
            XCTAssertEqual(caps[key], "0000000020000420", "\(key) in \(out)")
        }
        // The config lists ambient caps but no inheritable ones: the kernel
        // refuses to raise an ambient cap that is not inheritable (runc logs
        // and goes on), so none is ambient.
        XCTAssertEqual(caps["CapAmb"], "0000000000000000", out)
        XCTAssertEqual(caps["CapInh"], "0000000000000000", out)
    }

    func testAmbientCapabilitiesWithInheritable() throws {
        let out = try output("grep -E '^Cap(Inh|Eff|Amb)' /proc/self/status") { config in
            let kill = ["CAP_KILL"]
            config.setProcess(
                "capabilities",
                [
                    "bounding": kill, "effective": kill, "permitted": kill, "inheritable": kill, "ambient": kill,
                ])
        }
        let caps = parseStatus(out)
        for key in ["CapInh", "CapEff", "CapAmb"] {
            XCTAssertEqual(caps[key], "0000000000000020", "\(key) in \(out)")
        }
    }

    func testCustomCapabilities() throws {
        let out = try output("grep -E '^Cap(Prm|Eff|Bnd|Amb)' /proc/self/status") { config in
            config.setProcess(
                "capabilities",
                [
                    "bounding": ["CAP_CHOWN"], "effective": ["CAP_CHOWN"], "permitted": ["CAP_CHOWN"],
                ])
        }
        let caps = parseStatus(out)
        for key in ["CapPrm", "CapEff", "CapBnd"] {
            XCTAssertEqual(caps[key], "0000000000000001", "\(key) in \(out)")
        }
        XCTAssertEqual(caps["CapAmb"], "0000000000000000", out)
    }

    func testNoNewPrivileges() throws {
        XCTAssertEqual(parseStatus(try output("grep NoNewPrivs /proc/self/status"))["NoNewPrivs"], "1")
        let off = try output("grep NoNewPrivs /proc/self/status") { $0.setProcess("noNewPrivileges", false) }
        XCTAssertEqual(parseStatus(off)["NoNewPrivs"], "0", off)
    }

    func testSeccompErrno() throws {
        let outcome = try harness.run(
            try harness.shellBundle("grep Seccomp: /proc/self/status; mkdir /tmp/x && echo made || echo refused; echo ok > /tmp/file && cat /tmp/file") { config in
                Self.addMount(Self.tmpfsAtTmp, to: &config)
                config.setLinux(
                    "seccomp",
                    [
                        "defaultAction": "SCMP_ACT_ALLOW",
                        "syscalls": [["names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38]],
                    ])
            })
        XCTAssertEqual(outcome.code, 0, outcome.stderr)
        let lines = outcome.stdout.split(separator: "\n").map { $0.replacingOccurrences(of: "\t", with: " ") }
        XCTAssertEqual(lines, ["Seccomp: 2", "refused", "ok"], outcome.stdout)
        XCTAssertTrue(outcome.stderr.contains("Function not implemented"), outcome.stderr)
    }

    func testSeccompUnknownSyscallWarns() throws {
        let outcome = try harness.run(
            try harness.shellBundle("echo alive") { config in
                config.setLinux(
                    "seccomp",
                    [
                        "defaultAction": "SCMP_ACT_ALLOW",
                        "syscalls": [["names": ["no_such_syscall_xyz", "mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1]],
                    ])
            })
        XCTAssertEqual(outcome.code, 0, outcome.stderr)
        XCTAssertEqual(outcome.stdout, "alive\n")
        XCTAssertTrue(outcome.stderr.contains("no_such_syscall_xyz"), outcome.stderr)
    }

    func testRlimitNofile() throws {
        let out = try output("ulimit -n; ulimit -Hn; grep 'Max open files' /proc/self/limits") { config in
            config.setProcess("rlimits", [["type": "RLIMIT_NOFILE", "soft": 123, "hard": 456]])
        }
        let lines = out.split(separator: "\n")
        XCTAssertEqual(lines.first, "123", out)
        XCTAssertEqual(lines.dropFirst().first, "456", out)
        let fields = lines.last?.split(separator: " ", omittingEmptySubsequences: true) ?? []
        XCTAssertEqual(fields.dropFirst(3).prefix(2).map(String.init), ["123", "456"], out)
    }

    func testUserGroupsAndUmask() throws {
        let out = try output("id -u; id -g; id -G; umask") { config in
            config.setProcess("user", ["uid": 1000, "gid": 1000, "additionalGids": [5, 6], "umask": 0o027])
        }
        let lines = out.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 4, out)
        XCTAssertEqual(lines.first, "1000", out)
        XCTAssertEqual(lines.dropFirst().first, "1000", out)
        let groups = Set(lines.dropFirst(2).first?.split(separator: " ").map(String.init) ?? [])
        XCTAssertTrue(groups.isSuperset(of: ["1000", "5", "6"]), out)
        XCTAssertEqual(lines.last, "0027", out)
    }

    func testEnvAndCwd() throws {
        let out = try output("echo $FOO; pwd") { config in
            config.setProcess("env", ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "FOO=bar"])
            config.setProcess("cwd", "/tmp")
        }
        XCTAssertEqual(out, "bar\n/tmp\n")
    }

    func testSysctlInNetworkNamespace() throws {
        let out = try output("cat /proc/sys/net/ipv4/ip_forward") { config in
            config.setLinux("sysctl", ["net.ipv4.ip_forward": "1"])
        }
        XCTAssertEqual(out, "1\n")
    }

    // MARK: cgroup limits

    func checkLimit(
        _ controller: String, field: String, file: String, expected: String,
        resources: [String: Any], line: UInt = #line
    ) throws {
        let bundle = try harness.shellBundle("sleep 100") { $0.setLinux("resources", resources) }
        let id = "lim-" + controller
        let created = try harness.vessel(["create", "--bundle", bundle, id])
        if Self.hostControllers().contains(controller) {
            XCTAssertEqual(created.code, 0, created.stderr, line: line)
            let value = try String(contentsOfFile: "/sys/fs/cgroup/vessel/\(id)/\(file)", encoding: .utf8)
            XCTAssertEqual(value.trimmingCharacters(in: .whitespacesAndNewlines), expected, line: line)
            XCTAssertEqual(try harness.vessel(["delete", "--force", id]).code, 0, line: line)
        } else {
            XCTAssertNotEqual(created.code, 0, "create succeeded without the \(controller) controller", line: line)
            let message = created.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
            XCTAssertFalse(message.contains("\n"), "more than one line: \(message)", line: line)
            XCTAssertTrue(message.contains(controller) && message.contains(field), message, line: line)
        }
        harness.assertNoTrace(id, line: line)
    }

    func testPidsLimit() throws {
        try checkLimit(
            "pids", field: "linux.resources.pids.limit", file: "pids.max", expected: "10",
            resources: ["pids": ["limit": 10]])
    }

    func testMemoryLimit() throws {
        try checkLimit(
            "memory", field: "linux.resources.memory.limit", file: "memory.max", expected: "67108864",
            resources: ["memory": ["limit": 67_108_864]])
    }

    func parseStatus(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            result[String(parts[0])] = parts[1].trimmingCharacters(in: .whitespaces)
        }
        return result
    }
}
