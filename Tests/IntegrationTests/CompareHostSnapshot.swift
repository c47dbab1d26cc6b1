import Foundation
import XCTest

// The host state a `vessel compare` run could touch, taken before and after
// it: the sysctls and /sys files the probes open for writing or read, the
// host's network interfaces, this test's mount table, vessel's cgroups, the
// keys and processes the probes and VMs make. After a run, nothing of it
// may differ, and nothing of the run may be left.
struct CompareHostSnapshot: Equatable {
    static let files = [
        "/proc/sys/kernel/core_pattern", "/sys/kernel/profiling", "/sys/kernel/mm/transparent_hugepage/enabled",
        "/proc/sys/kernel/unprivileged_bpf_disabled", "/proc/sys/vm/unprivileged_userfaultfd",
        "/proc/sys/kernel/perf_event_paranoid", "/proc/sys/kernel/io_uring_disabled", "/proc/sys/user/max_user_namespaces",
    ]

    var values: [String: String]
    var interfaces: [String]
    var mounts: [String]
    var compareCgroups: [String]
    var probeKeys: [String]
    var leftoverProcesses: [String]
    var scratchDirectories: [String]

    static func take() -> CompareHostSnapshot {
        var values: [String: String] = [:]
        for path in files { values[path] = (try? String(contentsOfFile: path, encoding: .utf8)) ?? "(absent)" }
        let netDev = (try? String(contentsOfFile: "/proc/self/net/dev", encoding: .utf8)) ?? ""
        let interfaces = netDev.split(separator: "\n").compactMap { line in
            line.firstIndex(of: ":").map { String(line[..<$0]).trimmingCharacters(in: .whitespaces) }
        }.sorted()
        let mounts = ((try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? "")
            .split(separator: "\n").map { $0.split(separator: " ").dropFirst(2).joined(separator: " ") }.sorted()
        let cgroups = ((try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup/vessel")) ?? [])
            .filter { $0.hasPrefix("cmp") }.sorted()
        let keys = ((try? String(contentsOfFile: "/proc/keys", encoding: .utf8)) ?? "")
            .split(separator: "\n").filter { $0.contains("vessel-probe") }.map(String.init)
        let scratch = ((try? FileManager.default.contentsOfDirectory(atPath: "/run")) ?? []).filter { $0.hasPrefix("vessel-compare-") }
        return CompareHostSnapshot(
            values: values, interfaces: interfaces, mounts: mounts, compareCgroups: cgroups,
            probeKeys: keys, leftoverProcesses: leftovers(), scratchDirectories: scratch)
    }

    /// Processes of a compare run: the probe's, QEMU's with a compare
    /// scratch directory, and any child this test process still has.
    static func leftovers() -> [String] {
        let me = getpid()
        var found: [String] = []
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry), pid != me else { continue }
            let command = ((try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(entry)/cmdline"))) ?? Data())
                .map { $0 == 0 ? " " : String(UnicodeScalar($0)) }.joined()
            let stat = (try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8)) ?? ""
            let parent = stat.split(separator: ")").last?.split(separator: " ").dropFirst().first.flatMap { Int32($0) }
            if command.contains("vessel-compare-") || command.hasPrefix("/bin/sh /probe") || command.hasPrefix("/boundary")
                || parent == me
            {
                found.append("\(pid) \(command)")
            }
        }
        return found
    }

    /// Waits (up to 5 s) for the kernel to collect what is gone but not yet
    /// freed (invalidated keys), then compares.
    func assertUnchanged(file: StaticString = #filePath, line: UInt = #line) {
        var after = Self.take()
        for _ in 0..<50 where after != self || !after.probeKeys.isEmpty {
            usleep(100_000)
            after = Self.take()
        }
        XCTAssertEqual(after.values, values, "sysctls or /sys files changed", file: file, line: line)
        XCTAssertEqual(after.interfaces, interfaces, "host network interfaces changed", file: file, line: line)
        XCTAssertEqual(Set(after.mounts).subtracting(mounts), [], "mounts left", file: file, line: line)
        XCTAssertEqual(Set(after.compareCgroups).subtracting(compareCgroups), [], "cgroups left", file: file, line: line)
        XCTAssertEqual(after.probeKeys, [], "probe keys left", file: file, line: line)
        XCTAssertEqual(Set(after.leftoverProcesses).subtracting(leftoverProcesses), [], "processes left", file: file, line: line)
        XCTAssertEqual(after.scratchDirectories, [], "scratch directories left in /run", file: file, line: line)
    }
}
