import Foundation
import XCTest

// Each test tries a hostile form of a config field or rootfs that could reach
// the host, then looks at the host afterwards. The class each one covers (a
// runc CVE, or SECURITY.md's list) is named on the test.
final class HostSafetyTests: XCTestCase {
    var harness: Harness!

    override func setUpWithError() throws { harness = try Harness() }
    override func tearDown() { harness?.cleanUp() }

    func assertCreateRefused(
        _ bundle: String, id: String, mentions needles: [String],
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let outcome = try harness.vessel(["create", "--bundle", bundle, id])
        XCTAssertNotEqual(outcome.code, 0, "create should fail; stderr: \(outcome.stderr)", file: file, line: line)
        XCTAssertEqual(outcome.stderr.split(separator: "\n").count, 1, "one line: \(outcome.stderr)", file: file, line: line)
        for needle in needles {
            XCTAssertTrue(outcome.stderr.contains(needle), "\(needle) not in: \(outcome.stderr)", file: file, line: line)
        }
        harness.assertNoTrace(id, file: file, line: line)
    }

    /// The config's namespaces with `type` replaced by (or added as) `entry`.
    func namespaces(_ config: [String: Any], replacing type: String, with entry: [String: Any]?) -> [[String: Any]] {
        let linux = config["linux"] as? [String: Any] ?? [:]
        var list = (linux["namespaces"] as? [[String: Any]] ?? []).filter { ($0["type"] as? String) != type }
        if let entry { list.append(entry) }
        return list
    }

    func hostFile(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    /// A private copy of the busybox rootfs that a test may make hostile.
    func copiedRootfs() throws -> String {
        let copy = harness.scratch + "/rootfs-" + UUID().uuidString.prefix(8)
        let outcome = try Harness.execute("/bin/cp", ["-a", Harness.rootfs, copy])
        XCTAssertEqual(outcome.code, 0, outcome.stderr)
        return copy
    }

    // MARK: 1. namespace paths (SECURITY.md: a path of the wrong type joins the host's namespace)

    func testNamespacePathOfAnotherTypeIsRefusedBeforeJoining() throws {
        let mountsBefore = hostFile("/proc/self/mountinfo")
        let ipcAsMount = try harness.shellBundle("true") { config in
            config.setLinux("namespaces", self.namespaces(config, replacing: "ipc", with: ["type": "ipc", "path": "/proc/self/ns/mnt"]))
        }
        try assertCreateRefused(ipcAsMount, id: "nsmnt", mentions: ["linux.namespaces[", "].path", "/proc/self/ns/mnt", "mount namespace, not ipc"])
        XCTAssertEqual(hostFile("/proc/self/mountinfo"), mountsBefore, "the caller's mounts changed")

        let cgroupAsIPC = try harness.shellBundle("true") { config in
            config.setLinux("namespaces", self.namespaces(config, replacing: "cgroup", with: ["type": "cgroup", "path": "/proc/self/ns/ipc"]))
        }
        try assertCreateRefused(cgroupAsIPC, id: "nsipc", mentions: ["linux.namespaces[", "ipc namespace, not cgroup"])

        let notNamespace = try harness.shellBundle("true") { config in
            config.setLinux("namespaces", self.namespaces(config, replacing: "uts", with: ["type": "uts", "path": "/etc/hostname"]))
            config.removeValue(forKey: "hostname")
        }
        try assertCreateRefused(notNamespace, id: "nsfile", mentions: ["linux.namespaces[", "not a namespace file"])
    }

    func testNamespacePathOfTheRightTypeIsJoined() throws {
        // The caller's own uts namespace, by path: the container sees the host's hostname.
        let bundle = try harness.shellBundle("hostname") { config in
            config.setLinux("namespaces", self.namespaces(config, replacing: "uts", with: ["type": "uts", "path": "/proc/self/ns/uts"]))
            config.removeValue(forKey: "hostname")
        }
        let outcome = try harness.run(bundle)
        XCTAssertEqual(outcome.code, 0, outcome.stderr)
        XCTAssertEqual(outcome.stdout.trimmingCharacters(in: .whitespacesAndNewlines), ProcessInfo.processInfo.hostName)
    }

    // MARK: 2. sysctl (SECURITY.md: only keys whose namespace the container owns)

    func testSysctlOutsideTheContainersNamespacesIsRefused() throws {
        let queuesMax = hostFile("/proc/sys/fs/mqueue/queues_max")
        let pingRange = hostFile("/proc/sys/net/ipv4/ping_group_range")
        let corePattern = hostFile("/proc/sys/kernel/core_pattern")
        let noIPC = try harness.shellBundle("true") { config in
            config.setLinux("namespaces", self.namespaces(config, replacing: "ipc", with: nil))
            config.setLinux("sysctl", ["fs.mqueue.queues_max": "313"])
        }
        try assertCreateRefused(noIPC, id: "sysipc", mentions: ["linux.sysctl.fs.mqueue.queues_max", "ipc namespace"])
        let noNet = try harness.shellBundle("true") { config in
            config.setLinux("namespaces", self.namespaces(config, replacing: "network", with: nil))
            config.setLinux("sysctl", ["net.ipv4.ping_group_range": "0 1"])
        }
        try assertCreateRefused(noNet, id: "sysnet", mentions: ["linux.sysctl.net.ipv4.ping_group_range", "network namespace"])
        let hostNet = try harness.shellBundle("true") { config in
            config.setLinux("namespaces", self.namespaces(config, replacing: "network", with: ["type": "network", "path": "/proc/self/ns/net"]))
            config.setLinux("sysctl", ["net.ipv4.ping_group_range": "0 1"])
        }
        try assertCreateRefused(hostNet, id: "syshostnet", mentions: ["linux.sysctl.net.ipv4.ping_group_range", "host's network namespace"])
        let hostOnly = try harness.shellBundle("true") { $0.setLinux("sysctl", ["kernel.core_pattern": "|/tmp/x"]) }
        try assertCreateRefused(hostOnly, id: "syscore", mentions: ["linux.sysctl.kernel.core_pattern"])
        let traversal = try harness.shellBundle("true") { $0.setLinux("sysctl", ["net.a/../../kernel.core_pattern": "|/tmp/x"]) }
        try assertCreateRefused(traversal, id: "systrav", mentions: ["linux.sysctl.net.a/"])

        XCTAssertEqual(hostFile("/proc/sys/fs/mqueue/queues_max"), queuesMax)
        XCTAssertEqual(hostFile("/proc/sys/net/ipv4/ping_group_range"), pingRange)
        XCTAssertEqual(hostFile("/proc/sys/kernel/core_pattern"), corePattern)
    }

    func testSysctlInTheContainersOwnNamespaceIsApplied() throws {
        let queuesMax = hostFile("/proc/sys/fs/mqueue/queues_max")
        let bundle = try harness.shellBundle("cat /proc/sys/fs/mqueue/queues_max /proc/sys/net/ipv4/ping_group_range") {
            $0.setLinux("sysctl", ["fs.mqueue.queues_max": "313", "net.ipv4.ping_group_range": "0 7"])
        }
        let outcome = try harness.run(bundle)
        XCTAssertEqual(outcome.code, 0, outcome.stderr)
        XCTAssertEqual(
            outcome.stdout.split(separator: "\n").map { $0.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ") },
            ["313", "0 7"])
        XCTAssertEqual(hostFile("/proc/sys/fs/mqueue/queues_max"), queuesMax)
    }

    // MARK: 4. masking (CVE-2025-31133: a container-controlled /dev/null turns a mask into a writable bind)

    func testMaskRefusesASymlinkedDevNull() throws {
        let corePattern = hostFile("/proc/sys/kernel/core_pattern")
        let rootfs = try copiedRootfs()
        try? FileManager.default.removeItem(atPath: rootfs + "/dev/null")
        try FileManager.default.createSymbolicLink(atPath: rootfs + "/dev/null", withDestinationPath: "/proc/sys/kernel/core_pattern")
        let bundle = try harness.shellBundle("cat /proc/version | head -c 64") { config in
            config["root"] = ["path": rootfs, "readonly": false]
            // The image's /dev, not a tmpfs of ours, so its /dev/null is the one used.
            config["mounts"] = (config["mounts"] as? [[String: Any]] ?? []).filter { ($0["destination"] as? String) != "/dev" }
            config.setLinux("maskedPaths", ["/proc/version"])
        }
        try assertCreateRefused(bundle, id: "masknull", mentions: ["linux.maskedPaths", "/dev/null", "not the null device"])
        XCTAssertEqual(hostFile("/proc/sys/kernel/core_pattern"), corePattern)
    }

    func testMaskRefusesASymlinkedTarget() throws {
        let rootfs = try copiedRootfs()
        try FileManager.default.createSymbolicLink(atPath: rootfs + "/etc/secret", withDestinationPath: "/etc/passwd")
        let bundle = try harness.shellBundle("true") { config in
            config["root"] = ["path": rootfs, "readonly": false]
            config.setLinux("maskedPaths", ["/etc/secret"])
        }
        try assertCreateRefused(bundle, id: "masklink", mentions: ["linux.maskedPaths[0]", "/etc/secret", "symlink"])
    }

    func testMasksHideFilesAndDirectories() throws {
        let bundle = try harness.shellBundle("cat /proc/version | wc -c; ls /proc/fs | wc -l; echo x > /proc/version 2>/dev/null && echo writable || echo refused") {
            $0.setLinux("maskedPaths", ["/proc/version", "/proc/fs"])
        }
        let outcome = try harness.run(bundle)
        XCTAssertEqual(outcome.code, 0, outcome.stderr)
        let lines = outcome.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        XCTAssertEqual(lines, ["0", "0", "writable"], "/dev/null reads empty and swallows writes")
    }

    // MARK: 5. /proc and /sys in the rootfs (CVE-2019-16884, CVE-2023-27561 class)

    func testSymlinkedProcOrSysInTheRootfsIsRefused() throws {
        for (directory, id) in [("proc", "linkproc"), ("sys", "linksys")] {
            let rootfs = try copiedRootfs()
            try FileManager.default.removeItem(atPath: rootfs + "/" + directory)
            try FileManager.default.createDirectory(atPath: rootfs + "/fake", withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: rootfs + "/" + directory, withDestinationPath: "/fake")
            let bundle = try harness.shellBundle("true") { config in
                config["root"] = ["path": rootfs, "readonly": false]
            }
            try assertCreateRefused(bundle, id: id, mentions: ["mounts[", "/\(directory)", "not a plain directory", "must be mounted on ordinary directory"])
        }
    }

    func testMountOverProcFilesIsRefused() throws {
        let bundle = try harness.shellBundle("true") { config in
            var mounts = config["mounts"] as? [[String: Any]] ?? []
            mounts.append(["destination": "/proc/self/attr", "type": "tmpfs", "source": "tmpfs"])
            config["mounts"] = mounts
        }
        try assertCreateRefused(bundle, id: "procover", mentions: ["mounts[", "/proc/self/attr"])
    }

    /// runc's no_pivot class: under --no-pivot the host's procfs stays in
    /// the namespace; if it stayed fully visible, a user namespace inside
    /// the container could mount a fresh, unmasked procfs.
    func testNoPivotLeavesNoFullyVisibleHostProcfs() throws {
        let bundle = try harness.shellBundle("unshare -mrpf sh -c 'mount -t proc none /proc && echo mounted-fresh-proc' 2>&1; true") { config in
            config["root"] = ["path": Harness.rootfs, "readonly": true]
        }
        let outcome = try harness.vessel(["run", "--no-pivot", "--bundle", bundle, "nopivot"])
        XCTAssertEqual(outcome.code, 0, outcome.stderr)
        XCTAssertFalse(outcome.stdout.contains("mounted-fresh-proc"), outcome.stdout)
        XCTAssertTrue(
            outcome.stdout.lowercased().contains("permission denied") || outcome.stdout.contains("Operation not permitted"),
            "unshare or mount should be refused: \(outcome.stdout)")
    }

    // MARK: 6. read-only binds (CVE-2023-25809-like: a writable path where ro was asked)

    func testRecursiveReadOnlyBindCoversSubmounts() throws {
        let volume = harness.scratch + "/volume"
        try FileManager.default.createDirectory(atPath: volume + "/sub", withIntermediateDirectories: true)
        let mounted = try Harness.execute("/bin/mount", ["-t", "tmpfs", "tmpfs", volume + "/sub"])
        XCTAssertEqual(mounted.code, 0, mounted.stderr)
        defer { _ = try? Harness.execute("/bin/umount", ["-l", volume + "/sub"]) }
        for options in [["rbind", "ro"], ["rbind", "rro"]] {
            let bundle = try harness.shellBundle("touch /mnt/v/top 2>&1; touch /mnt/v/sub/below 2>&1; true") { config in
                var mounts = config["mounts"] as? [[String: Any]] ?? []
                mounts.append(["destination": "/mnt/v", "type": "bind", "source": volume, "options": options])
                config["mounts"] = mounts
            }
            let outcome = try harness.run(bundle)
            XCTAssertEqual(outcome.code, 0, outcome.stderr)
            XCTAssertEqual(
                outcome.stdout.components(separatedBy: "Read-only file system").count - 1, 2,
                "\(options): both the volume and its submount must be read-only: \(outcome.stdout)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: volume + "/sub/below"))
    }

    func testUnknownBindOptionIsRefused() throws {
        let bundle = try harness.shellBundle("true") { config in
            var mounts = config["mounts"] as? [[String: Any]] ?? []
            mounts.append(["destination": "/mnt", "type": "bind", "source": "/tmp", "options": ["rbind", "ro", "readonly-please"]])
            config["mounts"] = mounts
        }
        try assertCreateRefused(bundle, id: "bindopt", mentions: ["mounts[", "].options", "readonly-please"])
    }

    func testReadOnlyDevStillHasItsDevices() throws {
        let bundle = try harness.shellBundle("head -c 3 /dev/zero | wc -c; ls /dev/pts >/dev/null && echo pts; touch /dev/new 2>&1; true") { config in
            config["mounts"] = (config["mounts"] as? [[String: Any]] ?? []).map { mount in
                guard (mount["destination"] as? String) == "/dev" else { return mount }
                var readOnly = mount
                readOnly["options"] = ((mount["options"] as? [String]) ?? []) + ["ro"]
                return readOnly
            }
        }
        let outcome = try harness.run(bundle)
        XCTAssertEqual(outcome.code, 0, outcome.stderr)
        XCTAssertTrue(outcome.stdout.hasPrefix("3\npts\n"), outcome.stdout)
        XCTAssertTrue(outcome.stdout.contains("Read-only file system"), outcome.stdout)
    }

    // MARK: 9. create fails for a container that could never start

    func testWithoutAMountNamespaceTheContainerStarts() throws {
        let bundle = try harness.shellBundle("echo started") { config in
            config.setLinux("namespaces", self.namespaces(config, replacing: "mount", with: nil))
            config.setLinux("maskedPaths", [String]())
            config.setLinux("readonlyPaths", [String]())
            config["mounts"] = [[String: Any]]()
        }
        let outcome = try harness.run(bundle)
        XCTAssertEqual(outcome.code, 0, outcome.stderr)
        XCTAssertEqual(outcome.stdout, "started\n")
    }

    func testMasksWithoutAMountNamespaceAreRefused() throws {
        let bundle = try harness.shellBundle("true") { config in
            config.setLinux("namespaces", self.namespaces(config, replacing: "mount", with: nil))
        }
        try assertCreateRefused(bundle, id: "nomntns", mentions: ["linux.maskedPaths", "mount namespace"])
    }

    func testCapabilityOutsideTheHostsBoundingSetFailsCreate() throws {
        let status = hostFile("/proc/self/status")
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("CapBnd:") }),
            let bounding = UInt64(line.dropFirst(7).trimmingCharacters(in: .whitespaces), radix: 16)
        else {
            throw XCTSkip("cannot read this process's bounding set")
        }
        guard bounding & (1 << 24) == 0 else { throw XCTSkip("this host grants CAP_SYS_RESOURCE; nothing to refuse") }
        let bundle = try harness.shellBundle("true") { config in
            config.setProcess(
                "capabilities",
                [
                    "bounding": ["CAP_SYS_RESOURCE"], "effective": ["CAP_SYS_RESOURCE"],
                    "permitted": ["CAP_SYS_RESOURCE"],
                ])
        }
        try assertCreateRefused(bundle, id: "capbnd", mentions: ["process.capabilities.", "CAP_SYS_RESOURCE", "bounding set"])
    }

    // MARK: 10. startContainer hooks run inside the container's seccomp filter (runc's order)

    func testStartContainerHookRunsUnderTheSeccompFilter() throws {
        // A hook's stdout is kept by the runtime (as runc's): it leaves its verdict in /dev for the container to print.
        let bundle = try harness.shellBundle("cat /dev/hook-verdict") { config in
            config.setLinux(
                "seccomp",
                [
                    "defaultAction": "SCMP_ACT_ALLOW",
                    "syscalls": [["names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1]],
                ])
            config["hooks"] = [
                "startContainer": [
                    [
                        "path": "/bin/sh",
                        "args": [
                            "sh", "-c",
                            "{ mkdir /dev/hook-probe 2>/dev/null && echo hook-mkdir-allowed || echo hook-mkdir-denied; } > /dev/hook-verdict",
                        ],
                    ]
                ]
            ]
        }
        let outcome = try harness.run(bundle)
        XCTAssertEqual(outcome.code, 0, outcome.stderr)
        XCTAssertEqual(outcome.stdout, "hook-mkdir-denied\n")
    }

    // MARK: Also: security modules requested but absent are named, not dropped

    func testAbsentSecurityModuleIsAWarningNamingTheField() throws {
        let appArmor = ((try? String(contentsOfFile: "/sys/module/apparmor/parameters/enabled", encoding: .utf8)) ?? "").hasPrefix("Y")
        guard !appArmor else { throw XCTSkip("AppArmor is enabled here: the profile would be applied") }
        let bundle = try harness.shellBundle("true") { $0.setProcess("apparmorProfile", "vessel-test-profile") }
        let outcome = try harness.run(bundle)
        XCTAssertEqual(outcome.code, 0, outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("process.apparmorProfile"), outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("not applied"), outcome.stderr)
    }

    // MARK: CVE-2019-5736: the container must not be able to rewrite the runtime's binary

    /// The fallback, `vessel init` re-executed: from a read-only view of the binary.
    func testReexecutedInitRunsFromAReadOnlyViewOfTheBinary() throws {
        setenv("VESSEL_INIT_REEXEC", "1", 1)
        defer { unsetenv("VESSEL_INIT_REEXEC") }
        let bundle = try harness.shellBundle("true")
        XCTAssertEqual(try harness.vessel(["create", "--bundle", bundle, "exe"]).code, 0)
        let pid = try XCTUnwrap(try harness.state("exe")?["pid"] as? Int)
        var info = statvfs()
        XCTAssertEqual(statvfs("/proc/\(pid)/exe", &info), 0)
        XCTAssertNotEqual(info.f_flag & UInt(ST_RDONLY), 0, "the init's executable is on a writable mount")
        let mounts = hostFile("/proc/\(pid)/mountinfo")
        XCTAssertFalse(mounts.contains(Harness.vesselBinary), "no bind of the binary in the container's namespace")
        XCTAssertEqual(try harness.vessel(["delete", "--force", "exe"]).code, 0)
    }

    /// In place, the init's executable is vessel's own binary on its
    /// writable mount: it is non-dumpable, so no process of the container
    /// (without CAP_SYS_PTRACE over the host) can open /proc/<init>/exe.
    func testAnInitInPlaceIsOutOfTheContainersReach() throws {
        let bundle = try harness.shellBundle("true")
        XCTAssertEqual(try harness.vessel(["create", "--bundle", bundle, "exe"]).code, 0)
        defer { _ = try? harness.vessel(["delete", "--force", "exe"]) }
        let pid = try XCTUnwrap(try harness.state("exe")?["pid"] as? Int)
        let exe = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe")
        XCTAssertEqual(exe, URL(fileURLWithPath: Harness.vesselBinary).resolvingSymlinksInPath().path, "the init runs in place")
        let probe = try harness.vessel([
            "exec", "exe", "sh", "-c",
            "cat /proc/1/exe >/dev/null 2>&1 && echo opened; readlink /proc/1/exe || echo refused",
        ])
        XCTAssertEqual(probe.code, 0, probe.stderr)
        XCTAssertEqual(probe.stdout, "refused\n")
    }

    /// In place, the container's program is executed through the sealed
    /// trampoline, so /proc/self/exe there is never vessel's binary: a
    /// program (or a #! line, or an ELF interpreter) naming it runs nothing
    /// of the host's.
    func testTheContainerCannotRunTheRuntimeThroughProcSelfExe() throws {
        let bundle = try harness.bundle { config in
            var process = config["process"] as? [String: Any] ?? [:]
            process["args"] = ["/proc/self/exe", "--version"]
            config["process"] = process
        }
        // /proc/self/exe is the trampoline itself, which takes "--version"
        // for the program to run and cannot.
        let outcome = try harness.run(bundle)
        XCTAssertEqual(outcome.code, 1, outcome.stderr)
        XCTAssertFalse(outcome.stdout.contains("vessel version"), outcome.stdout)
        XCTAssertEqual(outcome.stderr, "exec --version: no such file or directory\n")

        let sleeper = try harness.shellBundle("sleep 100")
        XCTAssertEqual(try harness.vessel(["run", "-d", "--bundle", sleeper, "exe2"]).code, 0)
        defer { _ = try? harness.vessel(["delete", "--force", "exe2"]) }
        let exec = try harness.vessel(["exec", "exe2", "/proc/self/exe", "--version"])
        XCTAssertEqual(exec.code, 1, exec.stderr)
        XCTAssertFalse(exec.stdout.contains("vessel version"), exec.stdout)
    }
}
