import Foundation
import XCTest

// VM templates with real QEMU guests (TCG here): the first create builds
// the template and later ones restore from it; clones are machines of
// their own (random bytes, clock) although they share the template's RAM
// file, which nothing writes; deleted or broken templates cost a rebuild
// or a cold boot, never a failed create. Each test has its own template
// directory (VESSEL_VM_TEMPLATE_DIR), so none depends on another's.
final class VMTemplateTests: XCTestCase {
    var harness: Harness!
    var templates = ""

    override func setUpWithError() throws {
        harness = try Harness()
        if let missing = Harness.vmMissing() { throw XCTSkip(missing) }
        templates = harness.scratch + "/templates"
        setenv("VESSEL_VM_TEMPLATE_DIR", templates, 1)
        unsetenv("VESSEL_VM_TEMPLATES")
    }

    override func tearDown() {
        harness?.cleanUp()
        unsetenv("VESSEL_VM_TEMPLATE_DIR")
    }

    func templateNames() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: templates)) ?? []).filter { !$0.hasPrefix(".") && !$0.contains(".") }
    }

    func restoredFrom(_ log: String) -> String? {
        guard let range = log.range(of: "restored from template ") else { return nil }
        return String(log[range.upperBound...].prefix { $0.isHexDigit })
    }

    func testTheFirstCreateBuildsTheTemplateAndLaterOnesRestoreIt() throws {
        let bundle = try harness.shellBundle("echo out; echo err >&2; exit 3")
        let first = try harness.vmRun(bundle, "tpl-1")
        XCTAssertEqual(first.outcome.code, 3, first.outcome.stderr)
        XCTAssertEqual(first.outcome.stdout, "out\n")
        XCTAssertEqual(first.outcome.stderr, "err\n")
        XCTAssertTrue(first.log.contains("(built by this create)"), first.log)
        let hash = try XCTUnwrap(restoredFrom(first.log), first.log)
        XCTAssertEqual(templateNames(), [hash])

        let second = try harness.vmRun(bundle, "tpl-2")
        XCTAssertEqual(second.outcome.code, 3, second.outcome.stderr)
        XCTAssertEqual(second.outcome.stdout, "out\n")
        XCTAssertEqual(restoredFrom(second.log), hash, second.log)
        XCTAssertFalse(second.log.contains("built"), second.log)

        let sleeper = try harness.shellBundle("sleep 100")
        XCTAssertEqual(try harness.vmRun(sleeper, "tpl-3", detached: true).outcome.code, 0)
        let annotations = try XCTUnwrap(try harness.state("tpl-3")?["annotations"] as? [String: String])
        XCTAssertEqual(annotations["org.vessel.vm.boot"], "template \(hash)")
        // QEMU's monitor (QMP) is out of reach once the state is loaded.
        XCTAssertFalse(FileManager.default.fileExists(atPath: harness.stateRoot + "/tpl-3/qmp.sock"))
        XCTAssertEqual(try harness.vessel(["exec", "tpl-3", "sh", "-c", "echo exec-ok"]).stdout, "exec-ok\n")
        XCTAssertEqual(try harness.vessel(["delete", "--force", "tpl-3"]).code, 0)
        for id in ["tpl-1", "tpl-2", "tpl-3"] { harness.assertNoTrace(id) }
        XCTAssertEqual(Harness.processes(mentioning: harness.stateRoot), [])
    }

    /// Two clones of one template draw different random bytes (the agent
    /// reseeds the guest's RNG from the host before anything runs) and
    /// keep the host's time, though the template was saved seconds ago.
    func testClonesDrawTheirOwnRandomBytesAndKeepTheHostsTime() throws {
        let script =
            "head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \\n'; echo;"
            + " adjtimex | awk '/tv_sec/ {s=$2} /tv_usec/ {u=$2} END {printf \"%d.%06d\\n\", s, u}';"
            + " cat /proc/sys/kernel/random/boot_id"
        let bundle = try harness.shellBundle(script)
        XCTAssertEqual(try harness.vmRun(bundle, "tpl-seed").outcome.code, 0)
        sleep(3)  // the template is older than the tolerance: a clock left alone would show it
        var randoms: [String] = []
        var bootIDs: [String] = []
        for id in ["tpl-a", "tpl-b"] {
            let before = Date().timeIntervalSince1970
            let (outcome, log) = try harness.vmRun(bundle, id)
            let after = Date().timeIntervalSince1970
            XCTAssertEqual(outcome.code, 0, outcome.stderr)
            XCTAssertNotNil(restoredFrom(log), log)
            let lines = outcome.stdout.split(separator: "\n").map(String.init)
            guard lines.count == 3, let guestTime = Double(lines[1]) else { return XCTFail("unexpected output: \(outcome.stdout)") }
            XCTAssertEqual(lines[0].count, 64, lines[0])
            randoms.append(lines[0])
            bootIDs.append(lines[2])
            XCTAssertGreaterThanOrEqual(guestTime, before - 1, "the guest's clock is behind the host's")
            XCTAssertLessThanOrEqual(guestTime, after + 1, "the guest's clock is ahead of the host's")
        }
        XCTAssertNotEqual(randoms[0], randoms[1], "two clones drew the same random bytes")
        // The kernel makes boot_id when it is first read: after the reseed.
        XCTAssertNotEqual(bootIDs[0], bootIDs[1])
    }

    /// Clones map the template's RAM file privately; after two of them ran
    /// and wrote their memory, the file is byte for byte what it was.
    func testTheTemplatesRAMFileIsNeverWritten() throws {
        let fill = try harness.shellBundle("dd if=/dev/urandom of=/dev/shm/fill bs=1M count=24 2>/dev/null; echo filled; sleep 100")
        XCTAssertEqual(try harness.vmRun(try harness.shellBundle("true"), "tpl-build").outcome.code, 0)
        let hash = try XCTUnwrap(templateNames().first)
        let ram = templates + "/" + hash + "/ram"
        let before = try fingerprint(ram)
        for id in ["tpl-w1", "tpl-w2"] {
            let (outcome, log) = try harness.vmRun(fill, id, detached: true)
            XCTAssertEqual(outcome.code, 0, outcome.stderr)
            XCTAssertEqual(restoredFrom(log), hash, log)
        }
        for id in ["tpl-w1", "tpl-w2"] {
            let qemu = try XCTUnwrap((try harness.state(id)?["annotations"] as? [String: String])?["org.vessel.vm.vmm-pid"])
            // cat: Foundation reads a /proc file only as far as its (zero) size says.
            let maps = try Harness.execute("/bin/cat", ["/proc/\(qemu)/maps"]).stdout.split(separator: "\n")
            let mapping = try XCTUnwrap(maps.first { $0.hasSuffix(ram) }, "QEMU \(qemu) does not map \(ram)")
            XCTAssertTrue(mapping.contains(" rw-p "), "not a private mapping: \(mapping)")
            var filled = false
            for _ in 0..<100 where !filled {
                filled = try harness.vessel(["exec", id, "ls", "/dev/shm"]).stdout.contains("fill")
                usleep(100_000)
            }
            XCTAssertTrue(filled, "\(id) did not write its memory")
        }
        for id in ["tpl-w1", "tpl-w2"] { XCTAssertEqual(try harness.vessel(["delete", "--force", id]).code, 0) }
        XCTAssertEqual(try fingerprint(ram), before)
    }

    /// sha256, size and mtime of a file.
    func fingerprint(_ path: String) throws -> String {
        let sum = try Harness.execute("/usr/bin/sha256sum", [path]).stdout
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return "\(sum.prefix(64)) \(attributes[.size] ?? "") \(attributes[.modificationDate] ?? "")"
    }

    /// Two creates at once with no template: one builds it, the other
    /// waits for the lock and restores what the first built.
    func testConcurrentCreatesBuildTheTemplateOnce() throws {
        let bundle = try harness.shellBundle("echo hi")
        let runs = try ["tpl-c1", "tpl-c2"].map { id in
            try Harness.start(
                Harness.vesselBinary,
                [
                    "--root", harness.stateRoot, "--vm", "--log", harness.scratch + "/\(id).log",
                    "run", "--bundle", bundle, id,
                ])
        }
        for running in runs {
            let outcome = running.outcome()
            XCTAssertEqual(outcome.code, 0, outcome.stderr)
            XCTAssertEqual(outcome.stdout, "hi\n")
        }
        let logs = try ["tpl-c1", "tpl-c2"].map { try String(contentsOfFile: harness.scratch + "/\($0).log", encoding: .utf8) }
        XCTAssertEqual(logs.filter { $0.contains("(built by this create)") }.count, 1, logs.joined())
        XCTAssertEqual(Set(logs.compactMap { restoredFrom($0) }).count, 1, logs.joined())
        XCTAssertEqual(templateNames().count, 1)
    }

    /// A user deletes template files at any time: a running clone goes on,
    /// the next create builds a new template; a template whose state is
    /// damaged fails to restore, and the create boots cold and succeeds.
    func testDeletedOrDamagedTemplatesCostARebuildOrAColdBootNeverAFailure() throws {
        let sleeper = try harness.shellBundle("sleep 100")
        XCTAssertEqual(try harness.vmRun(sleeper, "tpl-live", detached: true).outcome.code, 0)
        let hash = try XCTUnwrap(templateNames().first)
        try FileManager.default.removeItem(atPath: templates)
        XCTAssertEqual(try harness.vessel(["exec", "tpl-live", "sh", "-c", "echo still-here"]).stdout, "still-here\n")

        let echo = try harness.shellBundle("echo hi")
        let rebuilt = try harness.vmRun(echo, "tpl-rebuilt")
        XCTAssertEqual(rebuilt.outcome.stdout, "hi\n", rebuilt.outcome.stderr)
        XCTAssertTrue(rebuilt.log.contains("(built by this create)"), rebuilt.log)
        XCTAssertEqual(restoredFrom(rebuilt.log), hash)

        try FileManager.default.removeItem(atPath: templates + "/" + hash + "/ram")
        let again = try harness.vmRun(echo, "tpl-again")
        XCTAssertEqual(again.outcome.stdout, "hi\n", again.outcome.stderr)
        XCTAssertTrue(again.log.contains("(built by this create)"), again.log)

        let state = templates + "/" + hash + "/state"
        try Data(repeating: 0x5a, count: 4096).write(to: URL(fileURLWithPath: state))
        let cold = try harness.vmRun(echo, "tpl-cold")
        XCTAssertEqual(cold.outcome.code, 0, cold.outcome.stderr)
        XCTAssertEqual(cold.outcome.stdout, "hi\n")
        XCTAssertTrue(cold.log.contains("vm: cold boot"), cold.log)
        XCTAssertTrue(cold.log.contains("restore from template \(hash)"), cold.log)
        XCTAssertFalse(FileManager.default.fileExists(atPath: templates + "/" + hash), "the broken template is still there")
        XCTAssertEqual(try harness.vessel(["delete", "--force", "tpl-live"]).code, 0)
        for id in ["tpl-live", "tpl-rebuilt", "tpl-again", "tpl-cold"] { harness.assertNoTrace(id) }
    }

    func testTemplatesTurnedOffBootCold() throws {
        let bundle = try harness.shellBundle("echo hi")
        setenv("VESSEL_VM_TEMPLATES", "off", 1)
        let off = try harness.vmRun(bundle, "tpl-off")
        unsetenv("VESSEL_VM_TEMPLATES")
        XCTAssertEqual(off.outcome.stdout, "hi\n", off.outcome.stderr)
        XCTAssertTrue(off.log.contains("vm: cold boot: templates are off (VESSEL_VM_TEMPLATES)"), off.log)

        let annotated = try harness.shellBundle("sleep 100") { $0["annotations"] = ["org.vessel.vm.template": "off"] }
        let detached = try harness.vmRun(annotated, "tpl-annotated", detached: true)
        XCTAssertEqual(detached.outcome.code, 0, detached.outcome.stderr)
        XCTAssertTrue(detached.log.contains("templates are off (annotation org.vessel.vm.template=off)"), detached.log)
        let annotations = try XCTUnwrap(try harness.state("tpl-annotated")?["annotations"] as? [String: String])
        XCTAssertEqual(annotations["org.vessel.vm.boot"], "cold")
        XCTAssertEqual(templateNames(), [], "a template was made with templates off")
    }

    /// `vessel vm template build` makes the template a default create
    /// restores; list shows it; rm removes it.
    func testTemplateCommands() throws {
        let built = try harness.vessel(["vm", "template", "build"])
        XCTAssertEqual(built.code, 0, built.stderr)
        let hash = try XCTUnwrap(built.stdout.split(separator: " ").first.map(String.init))
        XCTAssertTrue(built.stdout.contains("built in"), built.stdout)
        XCTAssertTrue(try harness.vessel(["vm", "template", "build"]).stdout.contains("already there"))
        let listed = try harness.vessel(["vm", "template", "list"])
        XCTAssertTrue(listed.stdout.contains(hash) && listed.stdout.contains("current"), listed.stdout)

        let run = try harness.vmRun(try harness.shellBundle("echo hi"), "tpl-cli")
        XCTAssertEqual(run.outcome.stdout, "hi\n", run.outcome.stderr)
        XCTAssertEqual(restoredFrom(run.log), hash, run.log)
        XCTAssertFalse(run.log.contains("built"), run.log)

        let missing = try harness.vessel(["vm", "template", "rm", "0123abc"])
        XCTAssertEqual(missing.code, 1)
        XCTAssertEqual(missing.stderr, "vessel: vm template rm: no template 0123abc\n")
        XCTAssertEqual(try harness.vessel(["vm", "template", "rm"]).code, 1)
        XCTAssertEqual(try harness.vessel(["vm", "template", "rm", hash]).code, 0)
        XCTAssertEqual(templateNames(), [])
        let bad = try harness.vessel(["vm", "template", "build", "--vcpus", "0"])
        XCTAssertEqual(bad.code, 1)
        XCTAssertTrue(bad.stderr.contains("--vcpus must be"), bad.stderr)
    }
}
