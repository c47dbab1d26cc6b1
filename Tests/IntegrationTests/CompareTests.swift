import Foundation
import XCTest

// `vessel compare` end to end (VM mode on TCG here), with its facts checked
// independently: the guest kernel is the one vessel booted, each boundary
// probe meets what the bundle's settings and the answering kernel's own
// policy say it must (CompareExpectations), the host is unchanged after a
// run, and the HTML report renders in a real browser without errors or
// network requests.
final class CompareTests: XCTestCase {
    var harness: Harness!
    let probe = Harness.packageRoot + "/bundles/probe"

    override func setUpWithError() throws {
        harness = try Harness()
        guard FileManager.default.fileExists(atPath: VMTests.kernel) else {
            throw XCTSkip("no guest kernel at \(VMTests.kernel): run scripts/fetch-vm-kernel.sh")
        }
        guard FileManager.default.fileExists(atPath: probe + "/rootfs/boundary") else {
            throw XCTSkip("no probe rootfs with /boundary: run bundles/probe/build-rootfs.sh")
        }
    }

    override func tearDown() { harness?.cleanUp() }

    /// A hardened profile: refuse by default (EPERM), allow what busybox's
    /// shell, the probe and vessel's init need, and refuse the escape-class
    /// calls in three ways (default EPERM, an ENOSYS rule, a kill action),
    /// so the classifier meets each form seccomp takes.
    static var hardenedSeccomp: [String: Any] {
        [
            "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1, "architectures": ["SCMP_ARCH_X86_64"],
            "syscalls": [
                [
                    "names": """
                    read write readv writev pread64 pwrite64 open openat close close_range stat fstat lstat newfstatat statx statfs
                    fstatfs poll ppoll select pselect6 lseek mmap mprotect munmap mremap madvise brk rt_sigaction rt_sigprocmask
                    rt_sigreturn sigaltstack ioctl access faccessat faccessat2 pipe pipe2 dup dup2 dup3 pause nanosleep clock_nanosleep
                    alarm getitimer setitimer getpid gettid getppid getpgrp getpgid setpgid getsid setsid getuid geteuid getgid getegid
                    getresuid getresgid getgroups clone fork vfork execve exit exit_group wait4 waitid kill tgkill tkill uname fcntl
                    getcwd chdir fchdir readlink readlinkat mkdir mkdirat unlink unlinkat rename renameat umask getdents getdents64
                    gettimeofday clock_gettime time getrlimit prlimit64 getrusage sysinfo times prctl arch_prctl set_tid_address
                    set_robust_list futex getrandom rseq sched_yield sched_getaffinity mknod mknodat capget sendmsg recvmsg sendto recvfrom
                    """.split(whereSeparator: \.isWhitespace).map(String.init), "action": "SCMP_ACT_ALLOW",
                ],
                ["names": ["io_uring_setup"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38],
                ["names": ["kexec_load", "init_module"], "action": "SCMP_ACT_KILL_PROCESS"],
            ],
        ]
    }

    /// `vessel compare --runs 1 --format json` of a bundle: the report.
    func compare(_ bundle: String, html: String? = nil) throws -> (linux: [String: Any], vm: [String: Any]) {
        let outcome = try harness.vessel(
            ["compare", "--runs", "1", "--format", "json", "--probe-bundle", probe]
                + (html.map { ["--html", $0] } ?? []) + [bundle])
        XCTAssertEqual(outcome.code, 0, outcome.stderr)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any], outcome.stdout)
        XCTAssertEqual((report["rows"] as? [[String: Any]])?.allSatisfy { !(($0["verdict"] as? String) ?? "").isEmpty }, true)
        return (try XCTUnwrap(report["linux"] as? [String: Any]), try XCTUnwrap(report["vm"] as? [String: Any]))
    }

    /// Each probe's outcome in one mode, against the expected one, and
    /// named for the kernel that answered.
    func assertBoundary(
        _ mode: [String: Any], kernel: String, _ expected: [String: ExpectedBoundary],
        file: StaticString = #filePath, line: UInt = #line
    ) {
        let results = mode["boundary"] as? [[String: Any]] ?? []
        XCTAssertEqual(Set(results.compactMap { $0["probe"] as? String }), Set(expected.keys), file: file, line: line)
        for result in results {
            let probe = result["probe"] as? String ?? "?"
            let seen = ExpectedBoundary(outcome: result["outcome"] as? String ?? "?", deniedBy: result["deniedBy"] as? String)
            XCTAssertEqual(seen, expected[probe], "\(kernel) \(probe): \(result["reason"] ?? "")", file: file, line: line)
            XCTAssertEqual(result["kernel"] as? String, kernel, probe, file: file, line: line)
            XCTAssertFalse((result["steps"] as? [Any] ?? []).isEmpty, "\(probe) has no steps", file: file, line: line)
        }
    }

    /// What each mode learned about the host, by fact.
    func revealed(_ mode: [String: Any]) -> [String: Bool] {
        var facts: [String: Bool] = [:]
        for fact in mode["disclosures"] as? [[String: Any]] ?? [] {
            if let name = fact["fact"] as? String { facts[name] = fact["revealsHost"] as? Bool }
        }
        return facts
    }

    func testBusyboxBundleMeetsItsBoundariesLeavesTheHostUnchangedAndRenders() throws {
        let before = CompareHostSnapshot.take()
        let html = harness.scratch + "/report.html"
        let (linux, vm) = try compare(Harness.packageRoot + "/bundles/busybox", html: html)
        assertBoundary(linux, kernel: "host", ExpectedBoundary.busybox(.host()))
        assertBoundary(vm, kernel: "guest", ExpectedBoundary.busybox(.debianGuest))
        // Its own network and cgroup namespaces hide the host's; the kernel, CPU and uptime are the host's in linux mode only.
        XCTAssertEqual(
            revealed(linux),
            [
                "kernel version": true, "CPU model": true, "uptime": true,
                "other tenants' cgroups": false, "network interfaces": false,
            ])
        XCTAssertEqual(revealed(vm).values.filter { $0 }.count, 0, "\(revealed(vm))")
        before.assertUnchanged()

        let page = try String(contentsOfFile: html, encoding: .utf8)
        XCTAssertFalse(page.contains("http://") || page.contains("https://"), "the page must not need a network")
        let verdict = try XCTUnwrap(page.range(of: "class=\"verdict\""), "no verdict")
        XCTAssertLessThan(verdict.lowerBound, try XCTUnwrap(page.range(of: "<table")).lowerBound, "the verdict comes first")
        XCTAssertTrue(page.contains("(log scale)") && page.contains("<svg"))
        try assertRendersCleanly(html)
    }

    /// The page in chromium: a screenshot, no console message, no request.
    /// The detectors are checked first on a page that does both wrong.
    func assertRendersCleanly(_ html: String) throws {
        let chromium = try HeadlessChromium(directory: harness.scratch + "/chromium")
        let bad = harness.scratch + "/bad.html"
        try """
        <!DOCTYPE html><html><body><script>console.error("detector-check")</script><img src="http://192.0.2.1/x.png"></body></html>
        """.write(toFile: bad, atomically: true, encoding: .utf8)
        let caught = try chromium.render(bad, name: "bad", height: 200)
        XCTAssertTrue(caught.consoleMessages.contains { $0.contains("detector-check") }, "console detector: \(caught.consoleMessages)")
        XCTAssertEqual(caught.pageRequests, ["http://192.0.2.1/x.png"], "request detector")

        let rendering = try chromium.render(html, name: "report")
        XCTAssertEqual(rendering.consoleMessages, [], "console messages")
        XCTAssertEqual(rendering.pageRequests, [], "network requests")
        let size = try XCTUnwrap(HeadlessChromium.pngSize(rendering.screenshot), "no PNG screenshot")
        XCTAssertEqual(size.width, 1280)
        if let keep = ProcessInfo.processInfo.environment["VESSEL_COMPARE_SCREENSHOT"] {
            try? FileManager.default.removeItem(atPath: keep)
            try FileManager.default.copyItem(atPath: rendering.screenshot, toPath: keep)
        }
    }

    func testHardenedBundleMeetsItsBoundaries() throws {
        let bundle = try harness.shellBundle("echo hardened") { config in
            config.setProcess("capabilities", ["bounding": [], "effective": [], "permitted": [], "inheritable": [], "ambient": []])
            config.setLinux("seccomp", Self.hardenedSeccomp)
        }
        let before = CompareHostSnapshot.take()
        let (linux, vm) = try compare(bundle)
        XCTAssertEqual(linux["stdout"] as? String, "hardened\n")
        XCTAssertEqual(vm["stdout"] as? String, "hardened\n")
        assertBoundary(linux, kernel: "host", ExpectedBoundary.hardened(.host()))
        assertBoundary(vm, kernel: "guest", ExpectedBoundary.hardened(.debianGuest))
        for mode in [linux, vm] {
            let probe = try XCTUnwrap(mode["probe"] as? [String: Any])
            XCTAssertEqual(probe["seccompMode"] as? String, "2")
            XCTAssertEqual(probe["effectiveCapabilities"] as? String, "0000000000000000")
        }
        before.assertUnchanged()
    }

    /// A bundle without pid, network and cgroup namespaces and with
    /// CAP_MKNOD: the host's processes, interfaces and other tenants'
    /// cgroups show in linux mode but not in the VM, and the device cgroup
    /// (not a capability) stops the host devices in both.
    func testCompareReportsWhatTheProbesSee() throws {
        // A host process the linux-mode container can see with the host's
        // pid namespace, in another tenant's cgroup next to the container's.
        let marker = "4242.\(getpid())"
        let tenant = "/sys/fs/cgroup/vessel/tenant-\(getpid())"
        try FileManager.default.createDirectory(atPath: tenant, withIntermediateDirectories: true)
        defer { Harness.removeCgroup(tenant) }
        let sleeper = try Harness.start("/bin/sleep", [marker])
        defer { kill(sleeper.pid, SIGKILL); _ = sleeper.outcome() }
        try "\(sleeper.pid)".write(toFile: tenant + "/cgroup.procs", atomically: false, encoding: .utf8)
        let bundle = try harness.shellBundle("echo same-output; exit 3") { config in
            var linux = config["linux"] as? [String: Any] ?? [:]
            linux["namespaces"] = (linux["namespaces"] as? [[String: Any]] ?? []).filter {
                !["pid", "network", "cgroup"].contains($0["type"] as? String ?? "")
            }
            config["linux"] = linux
            let caps = ["CAP_MKNOD", "CAP_KILL", "CAP_AUDIT_WRITE", "CAP_NET_BIND_SERVICE"]
            config.setProcess("capabilities", ["bounding": caps, "effective": caps, "permitted": caps])
        }
        let html = harness.scratch + "/report.html"
        let outcome = try harness.vessel(["compare", "--runs", "1", "--format", "json", "--html", html, "--probe-bundle", probe, bundle])
        XCTAssertEqual(outcome.code, 0, outcome.stderr)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any])
        let linux = try XCTUnwrap(report["linux"] as? [String: Any])
        let vm = try XCTUnwrap(report["vm"] as? [String: Any])

        // Equivalence: the same output and status in both modes.
        XCTAssertEqual(linux["stdout"] as? String, "same-output\n")
        XCTAssertEqual(vm["stdout"] as? String, "same-output\n")
        XCTAssertEqual(linux["exitStatus"] as? Int, 3)
        XCTAssertEqual(vm["exitStatus"] as? Int, 3)

        // Safety: kernels, checked against uname and the kernel vessel booted.
        let linuxProbe = try XCTUnwrap(linux["probe"] as? [String: Any])
        let vmProbe = try XCTUnwrap(vm["probe"] as? [String: Any])
        var names = utsname()
        uname(&names)
        let hostRelease = withUnsafeBytes(of: &names.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let guestRelease = try String(contentsOfFile: "/var/lib/vessel/vm/kernel/release", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual(linuxProbe["kernel"] as? String, hostRelease)
        XCTAssertEqual(vmProbe["kernel"] as? String, guestRelease)
        let linuxProcesses = linuxProbe["processes"] as? [String] ?? []
        let vmProcesses = vmProbe["processes"] as? [String] ?? []
        XCTAssertTrue(linuxProcesses.contains { $0.contains(marker) }, "\(linuxProcesses)")
        XCTAssertFalse(vmProcesses.contains { $0.contains(marker) }, "\(vmProcesses)")
        XCTAssertEqual(linux["hostProcessesVisible"] as? Bool, true)
        XCTAssertEqual(vm["hostProcessesVisible"] as? Bool, false)
        XCTAssertEqual(vm["hostSyscalls"] as? Int, 0)
        XCTAssertGreaterThan(linux["hostSyscalls"] as? Int ?? 0, 300)

        // The device cgroup, not a capability, stops the host's devices: mknod succeeds, the open does not.
        for (mode, kernel) in [(linux, "host"), (vm, "guest")] {
            for device in (mode["boundary"] as? [[String: Any]] ?? []) where (device["probe"] as? String ?? "").hasPrefix("device-") {
                XCTAssertEqual(device["deniedBy"] as? String, "device cgroup", "\(kernel): \(device)")
                XCTAssertEqual((device["steps"] as? [[String: Any]])?.first?["result"] as? String, "ok", "\(kernel) mknod: \(device)")
            }
        }
        // Without network and cgroup namespaces linux mode shows the host's interfaces and the other tenant; the VM neither.
        let hostInterfaces = Set(CompareHostSnapshot.take().interfaces)
        XCTAssertEqual(revealed(linux)["network interfaces"], hostInterfaces != ["lo"], "\(hostInterfaces) \(report["host"] ?? "") \(linuxProbe["networkNamespace"] ?? "")")
        XCTAssertEqual(revealed(linux)["other tenants' cgroups"], true)
        XCTAssertTrue(
            (linuxProbe["otherCgroupSample"] as? [String] ?? []).contains { $0.hasSuffix("tenant-\(getpid())") }
                || (linuxProbe["otherCgroups"] as? Int ?? 0) > 3, "\(linuxProbe["otherCgroupSample"] ?? "")")
        XCTAssertEqual(revealed(vm).values.filter { $0 }.count, 0, "\(revealed(vm))")

        // Performance: a timing per run, memory measured as PSS, the initramfs counted.
        XCTAssertEqual((vm["firstOutputMilliseconds"] as? [Double])?.count, 1)
        XCTAssertGreaterThan(linux["hostMemoryPSSMiB"] as? Double ?? 0, 0)
        XCTAssertGreaterThan(vm["hostMemoryPSSMiB"] as? Double ?? 0, linux["hostMemoryPSSMiB"] as? Double ?? 0)
        XCTAssertGreaterThan(vm["diskWrittenBytes"] as? Int ?? 0, 1 << 20)

        let page = try String(contentsOfFile: html, encoding: .utf8)
        XCTAssertTrue(page.contains("<svg"))
        XCTAssertFalse(page.contains("http://") || page.contains("https://"), "the page must not need a network")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: "/run").filter { $0.hasPrefix("vessel-compare-") }, [])
    }

    func testBadInputIsOneLine() throws {
        let notABundle = try harness.vessel(["compare", "--probe-bundle", probe, harness.scratch + "/missing"])
        XCTAssertEqual(notABundle.code, 1)
        XCTAssertEqual(notABundle.stderr, "vessel: compare: \(harness.scratch)/missing is not a bundle (no config.json)\n")
        let bundle = try harness.shellBundle("true")
        let noProbe = try harness.vessel(["compare", "--probe-bundle", harness.scratch, bundle])
        XCTAssertEqual(noProbe.code, 1)
        XCTAssertTrue(noProbe.stderr.contains("bundles/probe/build-rootfs.sh"), noProbe.stderr)
        XCTAssertEqual(try harness.vessel(["compare", "--runs", "0", bundle]).code, 1)
    }
}
