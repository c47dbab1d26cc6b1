import Foundation
import XCTest

// runtime-spec 1.2 fields, each proved from inside the container.
final class RuntimeSpec12Tests: XCTestCase {
    var harness: Harness!

    override func setUpWithError() throws { harness = try Harness() }
    override func tearDown() { harness?.cleanUp() }

    func runShell(_ script: String, _ modify: @escaping (inout [String: Any]) -> Void) throws -> Outcome {
        let outcome = try harness.run(try harness.shellBundle(script, modify))
        XCTAssertEqual(outcome.code, 0, outcome.stderr)
        return outcome
    }

    func testSchedulerIOPriorityAndAffinity() throws {
        let outcome = try runShell(
            """
            grep -E '^policy' /proc/self/sched | tr -s ' ' | cut -d' ' -f3
            cut -d' ' -f19 /proc/self/stat
            ionice -p $$
            grep Cpus_allowed_list /proc/self/status | cut -f2
            """
        ) { config in
            config.setProcess("scheduler", ["policy": "SCHED_BATCH", "nice": 5])
            config.setProcess("ioPriority", ["class": "IOPRIO_CLASS_IDLE"])
            config.setProcess("execCPUAffinity", ["initial": "0", "final": "0"])
        }
        let lines = outcome.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "3", "SCHED_BATCH: \(outcome.stdout)")
        XCTAssertEqual(lines.dropFirst().first, "5", "nice: \(outcome.stdout)")
        XCTAssertTrue(outcome.stdout.contains("idle"), "ionice: \(outcome.stdout)")
        XCTAssertEqual(lines.last, "0", "affinity: \(outcome.stdout)")
    }

    func testPersonality() throws {
        let outcome = try runShell("uname -m") { $0.setLinux("personality", ["domain": "LINUX32"]) }
        XCTAssertEqual(outcome.stdout, "i686\n")
    }

    func testTimeOffsets() throws {
        let outcome = try runShell("cut -d. -f1 /proc/uptime") { config in
            var namespaces = (config["linux"] as? [String: Any])?["namespaces"] as? [[String: Any]] ?? []
            namespaces.append(["type": "time"])
            config.setLinux("namespaces", namespaces)
            config.setLinux("timeOffsets", ["boottime": ["secs": 10_000_000, "nanosecs": 0]])
        }
        let uptime = Int(outcome.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        XCTAssertGreaterThan(uptime, 10_000_000, "boottime offset not applied: \(outcome.stdout)")
    }

    func testIntelRdtIsRefusedByName() throws {
        let bundle = try harness.shellBundle("true") { $0.setLinux("intelRdt", ["closID": "x"]) }
        let outcome = try harness.vessel(["create", "--bundle", bundle, "rdt"])
        XCTAssertNotEqual(outcome.code, 0)
        XCTAssertTrue(outcome.stderr.contains("linux.intelRdt"), outcome.stderr)
        XCTAssertEqual(outcome.stderr.split(separator: "\n").count, 1, outcome.stderr)
        harness.assertNoTrace("rdt")
    }

    /// A veth interface made in a network namespace of the test's own, so
    /// the host's interfaces are never touched (this kernel has no dummy).
    func testNetDeviceMovesIntoTheContainer() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip") else { throw XCTSkip("needs iproute2's ip") }
        let bundle = try harness.shellBundle("ip -o link show ctr0 | cut -d: -f2") { config in
            config.setLinux("netDevices", ["vtest0": ["name": "ctr0"]])
        }
        let script = "ip link add vtest0 type veth peer name vtest1 && exec \"$0\" --root \"$1\" run --bundle \"$2\" netdev"
        let outcome = try Harness.execute("/usr/bin/unshare", ["-n", "sh", "-c", script, Harness.vesselBinary, harness.stateRoot, bundle])
        XCTAssertEqual(outcome.code, 0, outcome.stderr)
        XCTAssertTrue(outcome.stdout.hasPrefix(" ctr0"), outcome.stdout)
    }

    func testIdmappedBindMount() throws {
        let volume = harness.scratch + "/idmap"
        try FileManager.default.createDirectory(atPath: volume, withIntermediateDirectories: true)
        XCTAssertEqual(try Harness.execute("/bin/mount", ["-t", "tmpfs", "tmpfs", volume]).code, 0)
        defer { _ = try? Harness.execute("/bin/umount", ["-l", volume]) }
        _ = FileManager.default.createFile(atPath: volume + "/file", contents: Data("x".utf8))
        XCTAssertEqual(chown(volume + "/file", 1000, 1000), 0)
        let outcome = try runShell("stat -c %u:%g /plain/file /mapped/file") { config in
            var mounts = config["mounts"] as? [[String: Any]] ?? []
            mounts.append(["destination": "/plain", "type": "bind", "source": volume, "options": ["bind"]])
            mounts.append([
                "destination": "/mapped", "type": "bind", "source": volume, "options": ["bind", "idmap"],
                // As the kernel (and runc) read a mount's map: an id on the
                // source filesystem (first column) shows as the second.
                "uidMappings": [["containerID": 1000, "hostID": 0, "size": 1]],
                "gidMappings": [["containerID": 1000, "hostID": 0, "size": 1]],
            ])
            config["mounts"] = mounts
        }
        XCTAssertEqual(outcome.stdout, "1000:1000\n0:0\n")
    }

    func testFeaturesSayWhatIsImplemented() throws {
        let outcome = try Harness.execute(Harness.vesselBinary, ["features"])
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(json["ociVersionMax"] as? String, "1.2.1")
        let linux = try XCTUnwrap(json["linux"] as? [String: Any])
        XCTAssertEqual(((linux["mountExtensions"] as? [String: Any])?["idmap"] as? [String: Any])?["enabled"] as? Bool, true)
        XCTAssertTrue((json["mountOptions"] as? [String] ?? []).contains("rro"))
    }
}
