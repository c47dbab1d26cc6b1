import Foundation
import XCTest

// What each boundary probe of `vessel compare` must meet, worked out here
// from the bundle's settings and the answering kernel's own facts, not
// from vessel's classifier: the test's independent oracle.
struct CompareKernelFacts {
    var ioUringDisabled = 0
    var unprivilegedBPFDisabled = 2
    var unprivilegedUserfaultfd = 0
    var perfEventParanoid = 2
    /// kernel.yama.ptrace_scope; nil without Yama.
    var ptraceScope: Int?
    var hasKexec = true
    var hasModules = true
    var hasSysrq = true

    /// The host's, read from its /proc.
    static func host() -> CompareKernelFacts {
        func sysctl(_ path: String) -> Int? {
            (try? String(contentsOfFile: "/proc/sys/" + path, encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
        let exists = { (path: String) in FileManager.default.fileExists(atPath: path) }
        return CompareKernelFacts(
            ioUringDisabled: sysctl("kernel/io_uring_disabled") ?? 0,
            unprivilegedBPFDisabled: sysctl("kernel/unprivileged_bpf_disabled") ?? 0,
            unprivilegedUserfaultfd: sysctl("vm/unprivileged_userfaultfd") ?? 1,
            perfEventParanoid: sysctl("kernel/perf_event_paranoid") ?? 2,
            ptraceScope: sysctl("kernel/yama/ptrace_scope"),
            hasKexec: exists("/proc/sys/kernel/kexec_load_disabled"),
            hasModules: exists("/proc/modules"),
            hasSysrq: exists("/proc/sysrq-trigger"))
    }

    /// Debian 12's 6.1 kernel, which scripts/fetch-vm-kernel.sh fetches for
    /// the guest, with its defaults: Debian raises perf_event_paranoid to 3;
    /// Yama is built in with ptrace_scope 0; kexec, modules and sysrq are in.
    static let debianGuest = CompareKernelFacts(perfEventParanoid: 3, ptraceScope: 0)
}

/// An expected outcome: "allowed", "absent", or "denied" with its stopper.
struct ExpectedBoundary: Equatable, CustomStringConvertible {
    var outcome: String
    var deniedBy: String?

    static let allowed = ExpectedBoundary(outcome: "allowed")
    static let absent = ExpectedBoundary(outcome: "absent")
    static func denied(_ by: String) -> ExpectedBoundary { ExpectedBoundary(outcome: "denied", deniedBy: by) }

    var description: String { deniedBy.map { "\(outcome) by \($0)" } ?? outcome }

    /// The busybox bundle: root with runc's three default capabilities, no
    /// seccomp profile, /proc/sys, sysrq-trigger and /sys read-only, all
    /// host devices denied.
    static func busybox(_ kernel: CompareKernelFacts) -> [String: ExpectedBoundary] {
        var expected = kernelDecided(kernel)
        expected["userns-mount"] = .allowed
        expected["keyring"] = .allowed
        for probe in ["open_by_handle_at", "device-char", "device-block"] { expected[probe] = .denied("capability") }
        return expected
    }

    /// What the kernel's own policy decides for a process without the
    /// capabilities involved and without a seccomp profile.
    static func kernelDecided(_ kernel: CompareKernelFacts) -> [String: ExpectedBoundary] {
        [
            "io_uring": kernel.ioUringDisabled == 0 ? .allowed : (kernel.ioUringDisabled == 2 ? .denied("kernel policy") : .denied("capability")),
            "bpf": kernel.unprivilegedBPFDisabled == 0 ? .allowed : .denied("capability"),
            "userfaultfd": kernel.unprivilegedUserfaultfd == 1 ? .allowed : .denied("capability"),
            "perf_event_open": kernel.perfEventParanoid <= 2 ? .allowed : .denied("capability"),
            "ptrace": [nil, 0].contains(kernel.ptraceScope) ? .allowed : (kernel.ptraceScope == 3 ? .denied("kernel policy") : .denied("capability")),
            "kexec_load": kernel.hasKexec ? .denied("capability") : .absent,
            "init_module": kernel.hasModules ? .denied("capability") : .absent,
            "proc-sys-write": .denied("read-only mount"),
            "sysrq-trigger": kernel.hasSysrq ? .denied("read-only mount") : .absent,
            "sys-write": .denied("read-only mount"),
        ]
    }

    /// The hardened bundle: no capabilities and CompareTests.hardenedSeccomp,
    /// which refuses every escape-class call; mknod is left to the missing
    /// CAP_MKNOD, and the file opens to the read-only mounts.
    static func hardened(_ kernel: CompareKernelFacts) -> [String: ExpectedBoundary] {
        var expected: [String: ExpectedBoundary] = [:]
        for probe in [
            "userns-mount", "io_uring", "bpf", "userfaultfd", "perf_event_open", "keyring", "ptrace",
            "kexec_load", "init_module", "open_by_handle_at",
        ] {
            expected[probe] = .denied("seccomp")
        }
        expected["device-char"] = .denied("capability")
        expected["device-block"] = .denied("capability")
        expected["proc-sys-write"] = .denied("read-only mount")
        expected["sysrq-trigger"] = kernel.hasSysrq ? .denied("read-only mount") : .absent
        expected["sys-write"] = .denied("read-only mount")
        return expected
    }
}
