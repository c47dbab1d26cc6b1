import Foundation
import OCI
import XCTest

final class SpecValidatorTests: XCTestCase {
    private func busybox() throws -> Spec {
        try SpecLoader.decode(SpecLoaderTests.busyboxConfig())
    }

    /// Asserts that validation fails with an error whose field is `field`
    /// and whose one-line description names it.
    private func assertRejects(_ spec: Spec, field: String, file: StaticString = #filePath, line: UInt = #line) {
        do {
            try SpecValidator.validate(spec)
            XCTFail("validation accepted a spec that should fail on \(field)", file: file, line: line)
        } catch {
            XCTAssertEqual(error.kind, .config, "\(error)", file: file, line: line)
            XCTAssertEqual(error.field, field, file: file, line: line)
            XCTAssertTrue(
                error.description.contains(field), "\(error.description) does not name \(field)",
                file: file, line: line)
            XCTAssertFalse(error.description.contains("\n"), file: file, line: line)
        }
    }

    private func mutated(_ change: (inout Spec) -> Void) throws -> Spec {
        var spec = try busybox()
        change(&spec)
        return spec
    }

    func testAcceptsBusybox() throws {
        XCTAssertNoThrow(try SpecValidator.validate(busybox()))
    }

    func testRejectsMissingRootAndProcess() throws {
        assertRejects(try mutated { $0.root = nil }, field: "root")
        assertRejects(try mutated { $0.process = nil }, field: "process")
        assertRejects(try mutated { $0.root?.path = "" }, field: "root.path")
    }

    func testRejectsEmptyArgs() throws {
        assertRejects(try mutated { $0.process?.args = [] }, field: "process.args")
        assertRejects(try mutated { $0.process?.args = nil }, field: "process.args")
        assertRejects(try mutated { $0.process?.args = [""] }, field: "process.args")
    }

    func testRejectsRelativeCwd() throws {
        assertRejects(try mutated { $0.process?.cwd = "home/user" }, field: "process.cwd")
    }

    func testRejectsEnvEntryWithoutEquals() throws {
        assertRejects(try mutated { $0.process?.env?.append("NOVALUE") }, field: "process.env[2]")
    }

    func testRejectsUnknownRlimitType() throws {
        assertRejects(
            try mutated { $0.process?.rlimits = [Rlimit(type: "RLIMIT_BOGUS", hard: 1, soft: 1)] },
            field: "process.rlimits[0].type")
    }

    func testRejectsSoftAboveHard() throws {
        assertRejects(
            try mutated { $0.process?.rlimits = [Rlimit(type: "RLIMIT_NOFILE", hard: 10, soft: 11)] },
            field: "process.rlimits[0]")
        // Equal soft and hard is fine.
        XCTAssertNoThrow(
            try SpecValidator.validate(
                try mutated { $0.process?.rlimits = [Rlimit(type: "RLIMIT_NOFILE", hard: 10, soft: 10)] }))
    }

    func testRejectsDuplicateRlimit() throws {
        assertRejects(
            try mutated {
                $0.process?.rlimits = [
                    Rlimit(type: "RLIMIT_NOFILE", hard: 10, soft: 10),
                    Rlimit(type: "RLIMIT_CORE", hard: 0, soft: 0),
                    Rlimit(type: "RLIMIT_NOFILE", hard: 20, soft: 20),
                ]
            }, field: "process.rlimits[2].type")
    }

    func testRejectsOomScoreAdjOutOfRange() throws {
        assertRejects(try mutated { $0.process?.oomScoreAdj = 2000 }, field: "process.oomScoreAdj")
        assertRejects(try mutated { $0.process?.oomScoreAdj = -1001 }, field: "process.oomScoreAdj")
        XCTAssertNoThrow(try SpecValidator.validate(try mutated { $0.process?.oomScoreAdj = -1000 }))
    }

    func testRejectsDuplicateNamespace() throws {
        assertRejects(try mutated { $0.linux?.namespaces?.append(Namespace(type: .pid)) }, field: "linux.namespaces[6]")
    }

    func testRejectsRelativeNamespacePath() throws {
        assertRejects(try mutated { $0.linux?.namespaces?[0].path = "proc/1/ns/pid" }, field: "linux.namespaces[0].path")
    }

    func testRejectsMappingsWithoutUserNamespace() throws {
        assertRejects(
            try mutated {
                $0.linux?.uidMappings = [IDMapping(containerID: 0, hostID: 1000, size: 1)]
                $0.linux?.gidMappings = [IDMapping(containerID: 0, hostID: 1000, size: 1)]
            }, field: "linux.uidMappings")
    }

    func testRejectsMappingsWhenJoiningUserNamespace() throws {
        // Joining an existing user namespace (with a path) must not carry mappings.
        assertRejects(
            try mutated {
                $0.linux?.namespaces?.append(Namespace(type: .user, path: "/proc/1/ns/user"))
                $0.linux?.uidMappings = [IDMapping(containerID: 0, hostID: 1000, size: 1)]
            }, field: "linux.uidMappings")
    }

    func testRejectsUserNamespaceWithoutMappings() throws {
        assertRejects(try mutated { $0.linux?.namespaces?.append(Namespace(type: .user)) }, field: "linux.uidMappings")
        // uid mappings alone are not enough either.
        assertRejects(
            try mutated {
                $0.linux?.namespaces?.append(Namespace(type: .user))
                $0.linux?.uidMappings = [IDMapping(containerID: 0, hostID: 1000, size: 1)]
            }, field: "linux.uidMappings")
        XCTAssertNoThrow(
            try SpecValidator.validate(
                try mutated {
                    $0.linux?.namespaces?.append(Namespace(type: .user))
                    $0.linux?.uidMappings = [IDMapping(containerID: 0, hostID: 1000, size: 1)]
                    $0.linux?.gidMappings = [IDMapping(containerID: 0, hostID: 1000, size: 1)]
                }))
    }

    func testRejectsHostnameWithoutUTSNamespace() throws {
        assertRejects(try mutated { $0.linux?.namespaces?.removeAll { $0.type == .uts } }, field: "hostname")
        // Joining a uts namespace by path is allowed here, as runc allows it;
        // that it is not the host's own is checked at create (HostPreflight).
        XCTAssertNoThrow(
            try SpecValidator.validate(
                try mutated {
                    if let index = $0.linux?.namespaces?.firstIndex(where: { $0.type == .uts }) {
                        $0.linux?.namespaces?[index].path = "/run/netns/other-uts"
                    }
                }))
        // No hostname, no uts namespace: fine.
        XCTAssertNoThrow(
            try SpecValidator.validate(
                try mutated {
                    $0.hostname = nil
                    $0.linux?.namespaces?.removeAll { $0.type == .uts }
                }))
    }

    func testRejectsDomainnameWithoutUTSNamespace() throws {
        assertRejects(
            try mutated {
                $0.hostname = nil
                $0.domainname = "example.org"
                $0.linux?.namespaces?.removeAll { $0.type == .uts }
            }, field: "domainname")
    }

    func testRejectsRelativeMountDestination() throws {
        assertRejects(
            try mutated { $0.mounts?.append(Mount(destination: "data", type: "tmpfs", source: "tmpfs")) },
            field: "mounts[7].destination")
    }

    func testRejectsRelativeHookPath() throws {
        assertRejects(
            try mutated {
                var hooks = Hooks()
                hooks.poststart = [Hook(path: "/bin/true"), Hook(path: "bin/hook")]
                $0.hooks = hooks
            }, field: "hooks.poststart[1].path")
    }

    func testRejectsZeroHookTimeout() throws {
        assertRejects(
            try mutated {
                var hooks = Hooks()
                hooks.createRuntime = [Hook(path: "/bin/true", timeout: 0)]
                $0.hooks = hooks
            }, field: "hooks.createRuntime[0].timeout")
        XCTAssertNoThrow(
            try SpecValidator.validate(
                try mutated {
                    var hooks = Hooks()
                    hooks.createRuntime = [Hook(path: "/bin/true", timeout: 5)]
                    $0.hooks = hooks
                }))
    }

    func testRejectsUnknownRootfsPropagation() throws {
        assertRejects(try mutated { $0.linux?.rootfsPropagation = "sideways" }, field: "linux.rootfsPropagation")
        XCTAssertNoThrow(try SpecValidator.validate(try mutated { $0.linux?.rootfsPropagation = "rslave" }))
    }

    func testRejectsUnknownDeviceType() throws {
        assertRejects(
            try mutated {
                $0.linux?.devices = [Device(type: "x", path: "/dev/fuse", major: 10, minor: 229)]
            }, field: "linux.devices[0].type")
    }

    func testDevicePathMustBeAbsoluteButMayBeOutsideDev() throws {
        XCTAssertNoThrow(
            try SpecValidator.validate(
                try mutated {
                    $0.linux?.devices = [Device(type: "c", path: "/tmp/fuse", major: 10, minor: 229)]
                }), "runc allows device nodes outside /dev")
        assertRejects(
            try mutated {
                $0.linux?.devices = [Device(type: "c", path: "tmp/fuse", major: 10, minor: 229)]
            }, field: "linux.devices[0].path")
        assertRejects(
            try mutated {
                $0.linux?.devices = [Device(type: "c", path: "/..", major: 10, minor: 229)]
            }, field: "linux.devices[0].path")
    }

    private func withDeviceRules(_ rules: [Resources.DeviceRule]) throws -> Spec {
        try mutated { spec in
            var resources = spec.linux?.resources ?? Resources()
            resources.devices = rules
            spec.linux?.resources = resources
        }
    }

    func testAcceptsDeviceRulesTheFilterCanExpress() throws {
        let rules = [
            Resources.DeviceRule(allow: false, access: "rwm"),
            Resources.DeviceRule(allow: true, type: "a", major: -1, minor: -1, access: nil),
            Resources.DeviceRule(allow: true, type: "c", major: 1, minor: 3, access: ""),
            Resources.DeviceRule(allow: true, type: "b", major: 4_294_967_295, minor: 0, access: "mr"),
        ]
        XCTAssertNoThrow(try SpecValidator.validate(withDeviceRules(rules)))
    }

    func testRejectsDeviceRuleWithUnknownAccess() throws {
        let rules = [Resources.DeviceRule(allow: false, access: "rwm"), Resources.DeviceRule(allow: true, type: "c", access: "rwx")]
        assertRejects(try withDeviceRules(rules), field: "linux.resources.devices[1].access")
        assertRejects(try withDeviceRules([Resources.DeviceRule(allow: true, access: "R")]), field: "linux.resources.devices[0].access")
    }

    func testRejectsDeviceRuleWithUnknownType() throws {
        // "u" and "p" are linux.devices types, not rule types.
        for type in ["u", "p", "char", ""] {
            assertRejects(try withDeviceRules([Resources.DeviceRule(allow: true, type: type)]), field: "linux.resources.devices[0].type")
        }
    }

    func testRejectsDeviceRuleNumbersOutsideU32() throws {
        assertRejects(
            try withDeviceRules([Resources.DeviceRule(allow: true, type: "c", major: -2)]),
            field: "linux.resources.devices[0].major")
        assertRejects(
            try withDeviceRules([Resources.DeviceRule(allow: true, type: "c", major: 1, minor: 4_294_967_296)]),
            field: "linux.resources.devices[0].minor")
    }

    func testRejectsCharDeviceWithoutNumbers() throws {
        assertRejects(
            try mutated {
                $0.linux?.devices = [Device(type: "c", path: "/dev/fuse", major: nil, minor: nil)]
            }, field: "linux.devices[0]")
        // A fifo needs no numbers.
        XCTAssertNoThrow(
            try SpecValidator.validate(
                try mutated {
                    $0.linux?.devices = [Device(type: "p", path: "/dev/fifo", major: nil, minor: nil)]
                }))
    }

    func testRejectsUnknownSeccompDefaultAction() throws {
        assertRejects(
            try mutated { $0.linux?.seccomp = Seccomp(defaultAction: "SCMP_ACT_MAYBE") },
            field: "linux.seccomp.defaultAction")
    }

    func testRejectsUnknownSeccompRuleAction() throws {
        assertRejects(
            try mutated {
                $0.linux?.seccomp = Seccomp(
                    defaultAction: "SCMP_ACT_ALLOW",
                    syscalls: [SeccompSyscall(names: ["kill"], action: "SCMP_ACT_NOPE")])
            }, field: "linux.seccomp.syscalls[0].action")
    }

    func testRejectsUnknownSeccompOperator() throws {
        assertRejects(
            try mutated {
                $0.linux?.seccomp = Seccomp(
                    defaultAction: "SCMP_ACT_ALLOW",
                    syscalls: [
                        SeccompSyscall(names: ["read"], action: "SCMP_ACT_ERRNO"),
                        SeccompSyscall(
                            names: ["personality"], action: "SCMP_ACT_ERRNO",
                            args: [
                                SeccompArg(index: 0, value: 8, op: "SCMP_CMP_EQ"),
                                SeccompArg(index: 1, value: 8, op: "SCMP_CMP_ABOUT"),
                            ]),
                    ])
            }, field: "linux.seccomp.syscalls[1].args[1].op")
    }

    func testRejectsSeccompArgIndexSix() throws {
        assertRejects(
            try mutated {
                $0.linux?.seccomp = Seccomp(
                    defaultAction: "SCMP_ACT_ALLOW",
                    syscalls: [
                        SeccompSyscall(
                            names: ["personality"], action: "SCMP_ACT_ERRNO",
                            args: [SeccompArg(index: 6, value: 8, op: "SCMP_CMP_EQ")])
                    ])
            }, field: "linux.seccomp.syscalls[0].args[0].index")
        XCTAssertNoThrow(
            try SpecValidator.validate(
                try mutated {
                    $0.linux?.seccomp = Seccomp(
                        defaultAction: "SCMP_ACT_ALLOW",
                        syscalls: [
                            SeccompSyscall(
                                names: ["personality"], action: "SCMP_ACT_ERRNO",
                                args: [SeccompArg(index: 5, value: 8, op: "SCMP_CMP_EQ")])
                        ])
                }))
    }

    func testRejectsSeccompRuleWithoutNames() throws {
        assertRejects(
            try mutated {
                $0.linux?.seccomp = Seccomp(
                    defaultAction: "SCMP_ACT_ALLOW",
                    syscalls: [SeccompSyscall(names: [], action: "SCMP_ACT_ERRNO")])
            }, field: "linux.seccomp.syscalls[0].names")
    }

    func testRejectsTimeOffsetsWithoutTimeNamespace() throws {
        assertRejects(try mutated { $0.linux?.timeOffsets = [:] }, field: "linux.timeOffsets")
    }

    func testRuntimeSpec12Fields() throws {
        assertRejects(try mutated { $0.process?.scheduler = Scheduler(policy: "SCHED_FAST") }, field: "process.scheduler.policy")
        assertRejects(try mutated { $0.process?.scheduler = Scheduler(policy: "SCHED_OTHER", nice: 40) }, field: "process.scheduler.nice")
        assertRejects(try mutated { $0.linux?.personality = Personality(domain: "BSD") }, field: "linux.personality.domain")
        assertRejects(
            try mutated {
                $0.linux?.namespaces?.append(Namespace(type: .time))
                $0.linux?.timeOffsets = ["realtime": TimeOffset(secs: 1)]
            }, field: "linux.timeOffsets.realtime")
        assertRejects(try mutated { $0.linux?.netDevices = ["eth0/../x": NetDevice(name: "x")] }, field: "linux.netDevices")
        assertRejects(
            try mutated {
                $0.linux?.namespaces?.removeAll { $0.type == .network }
                $0.linux?.netDevices = ["eth1": NetDevice(name: "ctr0")]
            }, field: "linux.netDevices")
        assertRejects(
            try mutated {
                $0.mounts = [Mount(destination: "/m", type: "bind", source: "/tmp", options: ["bind"])]
                $0.mounts?[0].uidMappings = [IDMapping(containerID: 0, hostID: 1, size: 1)]
            }, field: "mounts[0].uidMappings")
        XCTAssertNoThrow(
            try SpecValidator.validate(
                try mutated {
                    $0.process?.scheduler = Scheduler(policy: "SCHED_BATCH", nice: 5)
                    $0.linux?.personality = Personality(domain: "LINUX32")
                    $0.linux?.netDevices = ["eth1": NetDevice(name: "ctr0")]
                }))
    }

    /// sysctl(8)'s two spellings; nothing that could leave /proc/sys.
    func testSysctlKeysWithDotsOrSlashes() {
        XCTAssertEqual(SpecValidator.sysctlComponents("net.ipv4.ip_forward"), ["net", "ipv4", "ip_forward"])
        XCTAssertEqual(SpecValidator.sysctlComponents("net/ipv4/ip_forward"), ["net", "ipv4", "ip_forward"])
        XCTAssertEqual(SpecValidator.sysctlComponents("net/ipv4/conf/eth0.100/forwarding"), ["net", "ipv4", "conf", "eth0.100", "forwarding"])
        XCTAssertEqual(SpecValidator.sysctlNamespace("net/ipv4/ip_forward"), .network)
        XCTAssertEqual(SpecValidator.sysctlNamespace("kernel/msgmax"), .ipc)
        for bad in ["net", "net..x", "net/../kernel/core_pattern", "net.a/../../kernel.core_pattern", "/net/ipv4", "net/./x", ""] {
            XCTAssertNil(SpecValidator.sysctlComponents(bad), bad)
        }
    }
}
