import Foundation
import Linux
import XCTest

// Class covered (SECURITY.md, no CVE): "devices: without the cgroup device
// filter a container with CAP_MKNOD opens any host device". Every test gives
// the container CAP_MKNOD, lets it mknod host devices in its /dev (a tmpfs
// without nodev) and tries to open them from inside: the cgroup v2 device
// filter (eBPF) must refuse the open with EPERM unless a rule allows it.
final class DeviceFilterTests: XCTestCase {
    var harness: Harness!

    override func setUpWithError() throws { harness = try Harness() }
    override func tearDown() { harness?.cleanUp() }

    static var denyAll: [[String: Any]] { [["allow": false, "access": "rwm"]] }

    /// The host's first block device (major, minor), from /proc/partitions.
    static func hostDisk() throws -> (Int, Int) {
        let text = try String(contentsOfFile: "/proc/partitions", encoding: .utf8)
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count == 4, let major = Int(fields[0]), let minor = Int(fields[1]) { return (major, minor) }
        }
        throw XCTSkip("no block device in /proc/partitions")
    }

    /// Shell that prints "<name> <mode>: opened" or "<name> <mode>: <error>"
    /// for an open of /dev/<name> with a shell redirection (< read, > write,
    /// <> read-write), which opens and closes without reading or writing.
    static func open(_ name: String, _ mode: String) -> String {
        "if err=$( (exec 3\(mode) /dev/\(name)) 2>&1 ); then echo '\(name) \(mode): opened'; else echo \"\(name) \(mode): $err\"; fi; "
    }

    /// A bundle running `script` as root with CAP_MKNOD in every set and
    /// the given linux.resources.devices.
    func bundle(_ script: String, devices: [[String: Any]]) throws -> String {
        try harness.shellBundle(script) { config in
            let caps = ["CAP_MKNOD", "CAP_KILL", "CAP_AUDIT_WRITE", "CAP_NET_BIND_SERVICE"]
            config.setProcess(
                "capabilities",
                [
                    "bounding": caps, "effective": caps, "permitted": caps, "inheritable": caps, "ambient": caps,
                ])
            var linux = config["linux"] as? [String: Any] ?? [:]
            var resources = linux["resources"] as? [String: Any] ?? [:]
            resources["devices"] = devices
            linux["resources"] = resources
            config["linux"] = linux
        }
    }

    /// Runs `mknods` (which must all succeed: mknod itself is allowed),
    /// then `opens`; returns the output lines.
    func run(
        mknods: [String], opens: String, devices: [[String: Any]],
        file: StaticString = #filePath, line: UInt = #line
    ) throws -> Set<String> {
        let script = mknods.map { "mknod \($0)" }.joined(separator: " && ") + " && echo made; " + opens
        let outcome = try harness.run(try bundle(script, devices: devices))
        XCTAssertEqual(outcome.code, 0, outcome.stderr, file: file, line: line)
        let seen = Set(outcome.stdout.split(separator: "\n").map(String.init))
        XCTAssertTrue(seen.contains("made"), outcome.stdout + outcome.stderr, file: file, line: line)
        return seen
    }

    static func refused(_ seen: Set<String>, _ open: String) -> Bool {
        seen.contains { $0.hasPrefix(open + ":") && $0.contains("Operation not permitted") }
    }

    /// Deny-all: mknod is allowed (runc's `c *:* m`, `b *:* m`), opening the
    /// node is not; the default devices still work.
    func testDenyAllRefusesHostDevicesMadeWithMknod() throws {
        let (major, minor) = try Self.hostDisk()
        let seen = try run(
            mknods: ["/dev/vt-kmsg c 1 11", "/dev/vt-disk b \(major) \(minor)", "/dev/vt-kvm c 10 232"],
            opens: Self.open("vt-kmsg", ">") + Self.open("vt-disk", "<") + Self.open("vt-kvm", "<>")
                + Self.open("null", "<>") + Self.open("zero", "<") + Self.open("urandom", "<")
                + "head -c 4 /dev/urandom | wc -c; echo x > /dev/null && echo null-written",
            devices: Self.denyAll)
        for denied in ["vt-kmsg >", "vt-disk <", "vt-kvm <>"] {
            XCTAssertTrue(Self.refused(seen, denied), "\(denied) in \(seen)")
        }
        for allowed in ["null <>", "zero <", "urandom <"] {
            XCTAssertTrue(seen.contains(allowed + ": opened"), "\(allowed) in \(seen)")
        }
        XCTAssertTrue(seen.contains("4"), "\(seen)")
        XCTAssertTrue(seen.contains("null-written"), "\(seen)")
    }

    /// An allow rule after deny-all opens exactly what it names, with the
    /// access it names: "w" on kmsg lets a write open through, not read-write.
    func testAllowRuleOpensOnlyWhatItNames() throws {
        let seen = try run(
            mknods: ["/dev/vt-kmsg c 1 11", "/dev/vt-kvm c 10 232"],
            opens: Self.open("vt-kmsg", ">") + Self.open("vt-kmsg", "<>") + Self.open("vt-kvm", "<>"),
            devices: Self.denyAll + [["allow": true, "type": "c", "major": 1, "minor": 11, "access": "w"]])
        XCTAssertTrue(seen.contains("vt-kmsg >: opened"), "\(seen)")
        XCTAssertTrue(Self.refused(seen, "vt-kmsg <>"), "\(seen)")
        XCTAssertTrue(Self.refused(seen, "vt-kvm <>"), "\(seen)")
    }

    /// Allow-all opens anything mknod made (c 1:3 here); a later deny rule
    /// still wins over it for the device it names (last match wins).
    func testAllowAllThenLaterDenyWins() throws {
        let seen = try run(
            mknods: ["/dev/vt-null c 1 3", "/dev/vt-kmsg c 1 11"],
            opens: Self.open("vt-null", "<>") + Self.open("vt-kmsg", ">"),
            devices: [["allow": true, "access": "rwm"], ["allow": false, "type": "c", "major": 1, "minor": 11, "access": "w"]])
        XCTAssertTrue(seen.contains("vt-null <>: opened"), "\(seen)")
        XCTAssertTrue(Self.refused(seen, "vt-kmsg >"), "\(seen)")
    }

    /// VM mode: the guest's agent runs the same linux backend, so the rules
    /// reach the guest's cgroup and its filter refuses the guest's devices.
    func testTheFilterHoldsInTheVM() throws {
        guard FileManager.default.fileExists(atPath: VMTests.kernel),
            FileManager.default.isExecutableFile(atPath: "/usr/bin/qemu-system-x86_64")
        else {
            throw XCTSkip("no guest kernel or QEMU: run scripts/fetch-vm-kernel.sh")
        }
        let script = "mknod /dev/vt-kmsg c 1 11 && echo made; " + Self.open("vt-kmsg", ">") + Self.open("null", "<>")
        let outcome = try harness.vessel(["--vm", "run", "--bundle", try bundle(script, devices: Self.denyAll), "dv-vm"])
        XCTAssertEqual(outcome.code, 0, outcome.stderr)
        let seen = Set(outcome.stdout.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).map(String.init))
        XCTAssertTrue(seen.contains("made"), outcome.stdout)
        XCTAssertTrue(Self.refused(seen, "vt-kmsg >"), outcome.stdout)
        XCTAssertTrue(seen.contains("null <>: opened"), outcome.stdout)
    }

    /// `update --resources` with device rules replaces the program: what the
    /// running container can open changes both ways, seen through `exec`.
    func testUpdateReplacesTheDeviceFilter() throws {
        let script = "mknod /dev/vt-kmsg c 1 11 && touch /dev/made; sleep 100"
        XCTAssertEqual(try harness.vessel(["run", "-d", "--bundle", try bundle(script, devices: Self.denyAll), "dv-up"]).code, 0)
        for _ in 0..<250 {
            if try harness.vessel(["exec", "dv-up", "test", "-e", "/dev/made"]).code == 0 { break }
            usleep(20_000)
        }
        func kmsgOpen() throws -> String {
            try harness.vessel(["exec", "dv-up", "sh", "-c", Self.open("vt-kmsg", ">")]).stdout
        }
        XCTAssertTrue(try kmsgOpen().contains("Operation not permitted"))

        let allow = harness.scratch + "/allow.json"
        try #"{"devices":[{"allow":false,"access":"rwm"},{"allow":true,"type":"c","major":1,"minor":11,"access":"w"}]}"#
            .write(toFile: allow, atomically: true, encoding: .utf8)
        let updated = try harness.vessel(["update", "--resources", allow, "dv-up"])
        XCTAssertEqual(updated.code, 0, updated.stderr)
        XCTAssertEqual(try kmsgOpen(), "vt-kmsg >: opened\n")

        let deny = harness.scratch + "/deny.json"
        try #"{"devices":[{"allow":false,"access":"rwm"}]}"#.write(toFile: deny, atomically: true, encoding: .utf8)
        XCTAssertEqual(try harness.vessel(["update", "--resources", deny, "dv-up"]).code, 0)
        XCTAssertTrue(try kmsgOpen().contains("Operation not permitted"))
        // Back again: had the deny-all program stayed attached, it would
        // still refuse (all programs on a cgroup must allow).
        XCTAssertEqual(try harness.vessel(["update", "--resources", allow, "dv-up"]).code, 0)
        XCTAssertEqual(try kmsgOpen(), "vt-kmsg >: opened\n")
        // The default devices stay usable after an update.
        XCTAssertEqual(try harness.vessel(["exec", "dv-up", "sh", "-c", Self.open("null", "<>")]).stdout, "null <>: opened\n")
    }

    /// Containers with the same rules share one loaded program (a later one
    /// attaches what an earlier one loaded: no second verification), other
    /// rules get their own, and a shared program goes on refusing once the
    /// container that loaded it is gone.
    func testTheSameRulesShareOneLoadedProgram() throws {
        let script = "mknod /dev/vt-kmsg c 1 11 && touch /dev/made; sleep 100"
        let allowKmsg = Self.denyAll + [["allow": true, "type": "c", "major": 1, "minor": 11, "access": "w"]]
        for (id, devices) in [("dv-share-a", Self.denyAll), ("dv-share-b", Self.denyAll), ("dv-share-c", allowKmsg)] {
            let outcome = try harness.vessel(["run", "-d", "--bundle", try bundle(script, devices: devices), id])
            XCTAssertEqual(outcome.code, 0, outcome.stderr)
        }
        func programs(_ id: String) throws -> [UInt32] { try CgroupDeviceProgram.attachedIDs("/sys/fs/cgroup/vessel/" + id) }
        let (first, second, other) = (try programs("dv-share-a"), try programs("dv-share-b"), try programs("dv-share-c"))
        XCTAssertEqual(first.count, 1)
        XCTAssertEqual(second, first, "the same rules: the same program")
        XCTAssertEqual(other.count, 1)
        XCTAssertNotEqual(other, first, "other rules: a program of their own")

        XCTAssertEqual(try harness.vessel(["delete", "--force", "dv-share-a"]).code, 0)
        for id in ["dv-share-b", "dv-share-c"] {
            for _ in 0..<250 {
                if try harness.vessel(["exec", id, "test", "-e", "/dev/made"]).code == 0 { break }
                usleep(20_000)
            }
        }
        let refused = try harness.vessel(["exec", "dv-share-b", "sh", "-c", Self.open("vt-kmsg", ">")]).stdout
        XCTAssertTrue(refused.contains("Operation not permitted"), refused)
        XCTAssertEqual(try harness.vessel(["exec", "dv-share-c", "sh", "-c", Self.open("vt-kmsg", ">")]).stdout, "vt-kmsg >: opened\n")
    }

    /// A rule the filter cannot express is refused in one line naming it.
    func testBadRuleIsRefusedNamingTheField() throws {
        let outcome = try harness.run(try bundle("true", devices: [["allow": true, "type": "c", "access": "rwx"]]), id: "dv-bad")
        XCTAssertNotEqual(outcome.code, 0)
        XCTAssertTrue(outcome.stderr.contains("linux.resources.devices[0].access"), outcome.stderr)
        XCTAssertEqual(outcome.stderr.split(separator: "\n").count, 1, outcome.stderr)
        harness.assertNoTrace("dv-bad")
    }

    /// A filter that cannot be loaded fails `create` in one line and leaves
    /// nothing: vessel without CAP_BPF and CAP_SYS_ADMIN cannot load it.
    func testCreateFailsWithoutTheFilter() throws {
        let setpriv = "/usr/bin/setpriv"
        guard FileManager.default.isExecutableFile(atPath: setpriv) else { throw XCTSkip("no \(setpriv) (util-linux)") }
        let outcome = try Harness.execute(
            setpriv,
            [
                "--bounding-set", "-sys_admin,-bpf", Harness.vesselBinary,
                "--root", harness.stateRoot, "create", "--bundle",
                try bundle("true", devices: Self.denyAll), "dv-noload",
            ])
        XCTAssertNotEqual(outcome.code, 0)
        XCTAssertTrue(outcome.stderr.contains("linux.resources.devices: cannot load the device filter: BPF_PROG_LOAD"), outcome.stderr)
        XCTAssertEqual(outcome.stderr.split(separator: "\n").count, 1, outcome.stderr)
        harness.assertNoTrace("dv-noload")
    }
}
