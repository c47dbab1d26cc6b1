import XCTest

/// Where vessel and runc differ, by scenario name. A reason starting with
/// `GAP:` is a difference still to be closed in vessel (what runc does, then
/// what vessel does): fix vessel, delete the entry, and the scenario is
/// strict again. Any other reason is a deliberate difference, where vessel
/// refuses what runc does unsafely or follows the runtime-spec where runc
/// 1.1.5 does not; README.md's "Differences from runc" lists those too.
/// `vessel` holds vessel's transcript lines where they differ from runc's,
/// so such a scenario asserts vessel's documented behaviour instead of
/// being skipped. A failing scenario prints the lines for a new entry.
enum DifferentialKnownDifferences {
    struct Entry {
        let reason: String
        let vessel: [String]
        var isGap: Bool { reason.hasPrefix("GAP:") }
    }

    static let poststartAfterStart =
        "runtime-spec: poststart hooks run after the user process has started (status running, after startContainer); runc 1.1.5 runs them during create, with status created"
    static let ttyOfItsOwn =
        "with a terminal and no console socket, vessel (not detached) relays the pty to its stdio whether or not that stdio is a terminal; runc fails when its own stdin is not one (it cannot put it in raw mode)"

    static let defaultSignals =
        "vessel starts the container's process with every signal at its default disposition; runc (Go) passes on signal 32 ignored when its own caller had it ignored (the test runner does)"

    static let killInHostPIDNamespace =
        "runc's later kill tests: a container without a pid namespace of its own has no init whose death takes the rest along, so `kill KILL` kills every process of its cgroup, even after the init died; runc 1.1.5 signals the init alone (or fails, `container not running`, once it died) and leaves the others running"
    static let newerSpecField = "a runtime-spec field added after runc 1.1.5, which ignores it: vessel applies it, and refuses a value it cannot apply"
    /// Step 1 of a foreground `run`: what it printed, or its refusal.
    static func ranWith(_ out: String) -> String { "#1 run -b {bundle} {id}: exit 0 | out: " + String(reflecting: out) + " | err: \"\"" }
    static let refusedRun = "#1 run -b {bundle} {id}: exit 1 | out: \"\" | err: \"<error>\\n\""

    static let table: [String: Entry] = [
        // Deliberate.
        "hooks: order and the state each gets": Entry(
            reason: poststartAfterStart,
            vessel: [
                "files in /tmp: hooks.log 644 0:0 \"prestart creating bundle id ociVersion pid status \\ncreateRuntime creating bundle id ociVersion pid status \\ncreateContainer creating bundle id ociVersion pid status \\nstartContainer\\ncontainer\\npoststart running bundle id ociVersion pid status \\npoststop stopped bundle id ociVersion status \\n\""
            ]),
        "hooks: order through create, start, kill, delete": Entry(
            reason: poststartAfterStart,
            vessel: [
                "#2 host: cat {out}/hooks.log: exit 0 | out: \"prestart creating bundle id ociVersion pid status \\n\" | err: \"\"",
                "#4 host: cat {out}/hooks.log: exit 0 | out: \"prestart creating bundle id ociVersion pid status \\npoststart running bundle id ociVersion pid status \\n\" | err: \"\"",
                "#7 host: cat {out}/hooks.log: exit 0 | out: \"prestart creating bundle id ociVersion pid status \\npoststart running bundle id ociVersion pid status \\n\" | err: \"\"",
                "files in /tmp: hooks.log 644 0:0 \"prestart creating bundle id ociVersion pid status \\npoststart running bundle id ociVersion pid status \\npoststop stopped bundle id ociVersion status \\n\"",
            ]),
        "hooks: a failing poststart hook": Entry(
            reason:
                "runtime-spec: a failing poststart hook is logged and the lifecycle goes on, so vessel's container keeps running; runc 1.1.5 fails `run` and removes the container",
            vessel: [
                "#1 run -d -b {bundle} {id}: exit 0",
                "#2 state {id}: exit 0 | bundle=<sandbox>/bundle created=<time> id=<id> ociVersion:string owner:string pid=positive rootfs=<package>/bundles/busybox/rootfs status=running",
            ]),
        "hooks: a failing startContainer hook, then start": Entry(
            reason:
                "one clear line and a non-zero exit for what failed: the init hands a failing startContainer hook's reason to `start`, which fails with it; runc 1.1.5's `start` returns 0 and its init prints the failure to the container's stderr",
            vessel: ["#2 start {id}: exit 1"]),
        "features: the document's shape": Entry(
            reason:
                "vessel's features document also has what runtime-spec added after runc 1.1.5 (intelRdt, mountExtensions, netDevices, seccomp knownFlags and supportedFlags); runc's fields are all there",
            vessel: [
                "#1 features: exit 0 | {annotations:{*:string},hooks:[string],linux:{apparmor:{enabled:bool},capabilities:[string],cgroup:{systemd:bool,systemdUser:bool,v1:bool,v2:bool},intelRdt:{enabled:bool},mountExtensions:{idmap:{enabled:bool}},namespaces:[string],netDevices:{enabled:bool},seccomp:{actions:[string],archs:[string],enabled:bool,knownFlags:[string],operators:[string],supportedFlags:[string]},selinux:{enabled:bool}},mountOptions:[string],ociVersionMax:string,ociVersionMin:string,potentiallyUnsafeConfigAnnotations:[string]}"
            ]),
        "bind: an unknown option": Entry(
            reason:
                "vessel refuses a mount option it does not know; runc passes it to mount(2) as data, which a bind ignores, so a misspelt option (say `r0`) silently leaves the mount writable",
            vessel: ["#1 run -b {bundle} {id}: exit 1 | out: \"\" | err: \"<error>\\n\""]),
        "readonlyPaths: /proc/sys": Entry(
            reason: "vessel makes readonlyPaths nosuid, nodev and noexec as well as read-only; runc 1.1.5 only read-only",
            vessel: [
                "#1 run -b {bundle} {id}: exit 0 | out: \"write 1\\n/proc/sys proc ro,nosuid,nodev,noexec,relatime 0 0\\n\" | err: \"sh: can\\\'t create /proc/sys/kernel/domainname: Read-only file system\\n\""
            ]),
        "readonlyPaths: a mount under the path": Entry(
            reason:
                "vessel makes readonlyPaths read-only with the mounts under them; runc 1.1.5 remounts only the top one, so a bind under a read-only path stays writable (the container wrote into the host directory here)",
            vessel: [
                "#1 run -b {bundle} {id}: exit 0 | out: \"touch 1\\n/run/inner ext4 rw,relatime,discard,resv_strict,resuid=65534,resgid=65534 0 0\\n/run/inner ext4 ro,nosuid,nodev,noexec,relatime,discard,resv_strict,resuid=65534,resgid=65534 0 0\\n\" | err: \"touch: /run/inner/x: Read-only file system\\n\""
            ]),
        "mounts: /dev/null given as a symlink to a mask": Entry(
            reason:
                "vessel refuses to mask with a /dev/null that is not the null device (char 1:3); runc follows the container's symlink, binds the file it points to over the masked path and writes the container's stdio into it (CVE-2025-31133)",
            vessel: ["#2 run -b {bundle} {id}: exit 1 | out: \"\" | err: \"<error>\\n\"", "#3 host: cat {host}/decoy: exit 0 | out: \"not empty\\n\" | err: \"\""]),
        "hostname and domainname": Entry(
            reason: "runtime-spec's `domainname`: vessel sets it; runc 1.1.5 ignores the field (the container sees `(none)`)",
            vessel: ["#1 run -b {bundle} {id}: exit 0 | out: \"box\\nexample.org\\n\" | err: \"\""]),
        "signals: the mask and ignored set the process starts with": Entry(
            reason: defaultSignals,
            vessel: ["#1 run -b {bundle} {id}: exit 0 | out: \"SigBlk:\\t0000000000000000\\nSigIgn:\\t0000000000000004\\n\" | err: \"\""]),
        "signals: the init's own mask and ignored set": Entry(
            reason: defaultSignals,
            vessel: ["#1 run -b {bundle} {id}: exit 0 | out: \"SigBlk:\\t0000000000000000\\nSigIgn:\\t0000000000000000\\n\" | err: \"\""]),
        "ioPriority: best effort 4": Entry(reason: newerSpecField, vessel: [ranWith("best-effort: prio 4\n")]),
        "ioPriority: idle": Entry(reason: newerSpecField, vessel: [ranWith("idle\n")]),
        "ioPriority: an unknown class": Entry(reason: newerSpecField, vessel: [refusedRun]),
        "scheduler: SCHED_BATCH with a nice value": Entry(reason: newerSpecField, vessel: [ranWith("policy : 3\n5\n")]),
        "scheduler: an unknown policy": Entry(reason: newerSpecField, vessel: [refusedRun]),
        "personality: LINUX32": Entry(reason: newerSpecField, vessel: [ranWith("i686\n")]),
        "personality: an unknown domain": Entry(reason: newerSpecField, vessel: [refusedRun]),
        "rootfsPropagation: shared": Entry(
            reason:
                "runtime-spec: rootfsPropagation is the propagation of the container's root; vessel applies it to / after pivot_root (as later runc does); runc 1.1.5 applies it to the old root before pivot_root, so the container's / stays private",
            vessel: [ranWith("shared:N end\n")]),
        "devices: a relative path": Entry(
            reason:
                "runtime-spec: linux.devices[].path is a full path; vessel refuses a relative one, as both refuse a relative mount destination; runc 1.1.5 makes it relative to the rootfs",
            vessel: [refusedRun]),
        "kill: SIGRTMIN+1 by name": Entry(
            reason: "vessel also takes the real-time signal names kill(1) and crun take (RTMIN+n); runc 1.1.5 knows only the 31 classic names; numbers (34 to 64) work in both",
            vessel: ["#3 kill {id} SIGRTMIN+1: exit 0"]),
        "list: a stray directory in the root": Entry(
            reason:
                "runtime-spec's creating status: vessel lists a state directory without a state file (a create still running, or one that died) as creating, so it can be seen and deleted; runc 1.1.5 leaves it out of list",
            vessel: [
                "#3 list: exit 0 | ID PID STATUS BUNDLE CREATED OWNER / <id> # created <sandbox>/bundle <time> root / stray # creating root", "#4 list -q: exit 0 | <id> / stray",
            ]),
        "run: --preserve-fds of fds the caller did not open": Entry(
            reason:
                "vessel refuses --preserve-fds naming descriptors its caller did not open; runc 1.1.5 checks them in its own process, where Go's runtime holds fds 3 and up, and passes those into the container (a directory fd of the host's /sys/fs/cgroup among them: the CVE-2024-21626 class)",
            vessel: ["#1 host: exec 3<&- 4<&- 5<&- 6<&- 7<&- 8<&- 9<&-; {rt} run --preserve-fds 3 -b {bundle} {id}: exit 1 | out: \"\" | err: \"<error>\\n\""]),
        "exec: process.user.umask of the config": Entry(
            reason:
                "vessel gives an exec'd process the config's process.user.umask, as runc's later umask test expects (it reads /proc/self/status in `exec`); runc 1.1.5's exec keeps its caller's umask",
            vessel: ["#3 exec {id} grep ^Umask: /proc/self/status: exit 0 | out: \"Umask:\\t0077\\n\" | err: \"\""]),
        "kill: KILL in the host's pid namespace": Entry(
            reason: killInHostPIDNamespace,
            vessel: ["#8 host: cat /sys/fs/cgroup$(cat {host}/cgroup)/cgroup.procs 2>/dev/null | wc -l: exit 0 | out: \"0\\n\" | err: \"\""]),
        "kill: KILL in the host's pid namespace, the init gone": Entry(
            reason: killInHostPIDNamespace,
            vessel: [
                "#7 kill {id} KILL: exit 0", "#9 host: cat /sys/fs/cgroup$(cat {host}/cgroup)/cgroup.procs 2>/dev/null | wc -l: exit 0 | out: \"0\\n\" | err: \"\"",
            ]),
        "tmpfs: size and mode": Entry(
            reason:
                "a tmpfs's `mode=` option gives its mode, as later runc does (runc's run.bats, runc issue 3911); runc 1.1.5 chmods it to the mode of the directory it covers, over the option",
            vessel: [ranWith("/run tmpfs rw,nosuid,relatime,size=1024k,mode=700 0 0\n700\n")]),
        "mounts: in the caller's mount namespace, with a createRuntime hook": Entry(
            reason:
                "vessel refuses mounts (and masked or read-only paths) without a mount namespace of the container's own: they would be made in the caller's namespace and stay there after delete (runc left 9 mounts on the host's rootfs directory here, and ran the createRuntime hook twice, which later runc fixed)",
            vessel: [
                refusedRun, "#3 host: ls {out} | wc -l: exit 0 | out: \"0\\n\" | err: \"\"", "files in /tmp: none",
                "left on the host: state dirs [], cgroup none, processes 0, mounts 0",
            ]),
        "exec: process.json without env, a bare program name": Entry(
            reason:
                "runtime-spec gives process.args execvp's semantics, which search a default path where PATH is unset: vessel looks a bare name up in runc spec's default PATH then; runc 1.1.5 searches nothing and fails",
            vessel: ["#2 exec -p {host}/process.json {id}: exit 0 | out: \"ran\\n\" | err: \"\""]),
        "maskedPaths: directories share one tmpfs": Entry(
            reason:
                "vessel masks every directory with one read-only tmpfs, bound again for each after the first, as later runc does (its mask.bats checks one st_dev); runc 1.1.5 mounts a tmpfs per directory",
            vessel: ["#1 run -b {bundle} {id}: exit 1 | out: \"shared\\n\" | err: \"touch: /sys/firmware/x: Read-only file system\\n\""]),
        "user: joins another container's user namespace": Entry(
            reason:
                "vessel joins a user namespace given by path and makes the container's other namespaces inside it, as later runc does (its userns and run tests); runc 1.1.5 refuses a user namespace without id mappings",
            vessel: [
                "#4 run -d -b {bundle} {id2}: exit 0",
                "#5 exec {id2} cat /proc/self/uid_map /proc/self/gid_map: exit 0 | out: \"         0     100000      65534\\n         0     200000      65534\\n\" | err: \"\"",
                "#6 exec {id2} sh -c \'ip -o link show lo | cut -d\" \" -f2,3; ps -o comm\': exit 0 | out: \"lo: <LOOPBACK,UP,LOWER_UP>\\nCOMMAND\\nsleep\\nps\\n\" | err: \"\"",
                "#9 run -d -b {bundle} {id2}: exit 0", "#10 exec {id2} ps -o comm: exit 0 | out: \"COMMAND\\nsleep\\nsleep\\nps\\n\" | err: \"\"",
            ]),
        "tmpfs: tmpcopyup copies what it covers, read-only after": Entry(
            reason:
                "tmpcopyup keeps each copied entry's mode exactly, as later runc does (runc issue 3991); runc 1.1.5 makes copied directories under the caller's umask (777 became 755 here)",
            vessel: [
                "#2 run -b {bundle} {id}: exit 0 | out: \"/var/up drwxr-xr-x 0:0\\n/var/up/file -rw-r----- 7:8\\n/var/up/link lrwxrwxrwx 0:0\\n/var/up/open drwxrwxrwx 0:0\\n/var/up/open/deep drwxr-xr-x 0:0\\nkept\\n/var/up tmpfs ro,nosuid,relatime 0 0\\n\" | err: \"touch: /var/up/new: Read-only file system\\n\""
            ]),

        "exec -t: without a console socket": Entry(
            reason: ttyOfItsOwn,
            vessel: ["#2 exec -t {id} tty: exit 0"]),
        "terminal: run in the foreground without a console socket": Entry(
            reason: ttyOfItsOwn,
            vessel: ["#1 run -b {bundle} {id}: exit 0 | out: \"/dev/pts/0\\r\\nhi\\r\\n\" | err: \"\""]),
    ]
}

/// The table's own consistency; needs neither root nor runc.
final class DifferentialTableTests: XCTestCase {
    static var allScenarios: [DiffScenario] {
        DifferentialBadInputTests.scenarios + DifferentialExecTests.scenarios
            + DifferentialHooksTests.scenarios + DifferentialInfoTests.scenarios + DifferentialKillTests.scenarios
            + DifferentialLifecycleTests.scenarios + DifferentialMountsTests.scenarios + DifferentialProcessTests.scenarios
            + DifferentialSeccompTests.scenarios + DifferentialStateListPsTests.scenarios + DifferentialTerminalTests.scenarios
            + DifferentialPidFileTests.scenarios + DifferentialEntrypointTests.scenarios + DifferentialUpdateTests.scenarios
            + DifferentialDevicesTests.scenarios + DifferentialProcessAttributesTests.scenarios + DifferentialCommandLineTests.scenarios
    }

    func testScenarioNamesAreUniqueAndEnough() {
        let names = Self.allScenarios.map(\.name)
        XCTAssertEqual(Set(names).count, names.count, "two scenarios share a name")
        XCTAssertGreaterThanOrEqual(names.count, 80)
    }

    func testEveryEntryNamesAScenario() {
        let names = Set(Self.allScenarios.map(\.name))
        for name in DifferentialKnownDifferences.table.keys.sorted() {
            XCTAssertTrue(names.contains(name), "DifferentialKnownDifferences names no scenario: \(name)")
        }
    }

    /// README.md's "Differences from runc" lists exactly the deliberate entries.
    func testReadmeListsTheDeliberateDifferences() throws {
        let readme = try String(contentsOfFile: Harness.packageRoot + "/README.md", encoding: .utf8)
        let section =
            readme.components(separatedBy: "## Differences from runc").dropFirst().first?
            .components(separatedBy: "\n## ").first ?? ""
        // Rows are `| scenario | what vessel does and why |`; the header and rule are not scenarios.
        let listed = Set(
            section.split(separator: "\n").filter { $0.hasPrefix("| `") }.compactMap { row in
                row.split(separator: "`").dropFirst().first.map(String.init)
            })
        let deliberate = Set(DifferentialKnownDifferences.table.filter { !$0.value.isGap }.keys)
        XCTAssertEqual(listed.subtracting(deliberate).sorted(), [], "README lists these, the table does not (as deliberate)")
        XCTAssertEqual(deliberate.subtracting(listed).sorted(), [], "deliberate differences missing from README.md")
    }
}
