import CVessel
import Glibc
import Linux
import OSKit
import OCI
import XCTest

// Never calls load(): that would install the filter into the test process.
final class SeccompFilterTests: XCTestCase {
    func testUnknownSyscallsAreListed() {
        let profile = Seccomp(
            defaultAction: "SCMP_ACT_ERRNO",
            syscalls: [
                SeccompSyscall(names: ["read", "not_a_syscall", "write"], action: "SCMP_ACT_ALLOW"),
                SeccompSyscall(names: ["not_a_syscall", "also_not_one"], action: "SCMP_ACT_LOG"),
            ])
        let filter = SeccompFilter(profile)
        XCTAssertEqual(filter.unknownSyscalls, ["not_a_syscall", "also_not_one"])
        XCTAssertFalse(filter.unknownSyscalls.contains("read"))
        XCTAssertEqual(filter.profile, profile)
    }

    func testTwoConditionsOnOneArgumentBecomeSeparateRules() {
        let first = scmp_arg_cmp(arg: 0, op: SCMP_CMP_EQ, datum_a: 1, datum_b: 0)
        let second = scmp_arg_cmp(arg: 0, op: SCMP_CMP_EQ, datum_a: 2, datum_b: 0)
        let other = scmp_arg_cmp(arg: 1, op: SCMP_CMP_NE, datum_a: 3, datum_b: 0)
        let split = SeccompFilter.ruleConditionSets([first, second, other])
        XCTAssertEqual(split.map { $0.map(\.datum_a) }, [[1], [2], [3]])
        let kept = SeccompFilter.ruleConditionSets([first, other])
        XCTAssertEqual(kept.map { $0.map(\.datum_a) }, [[1, 3]], "conditions on different arguments stay one rule")
        XCTAssertEqual(SeccompFilter.ruleConditionSets([]).count, 1, "a rule without conditions is one rule")
    }

    func testNoSyscallsNoUnknowns() {
        XCTAssertEqual(SeccompFilter(Seccomp(defaultAction: "SCMP_ACT_ALLOW")).unknownSyscalls, [])
    }

    func testErrnoAction() throws {
        XCTAssertEqual(try SeccompFilter.action("SCMP_ACT_ERRNO", errnoRet: 38), 0x0005_0026)
        XCTAssertEqual(try SeccompFilter.action("SCMP_ACT_ERRNO", errnoRet: nil), 0x0005_0000 | UInt32(EPERM))
        XCTAssertEqual(try SeccompFilter.action("SCMP_ACT_ERRNO", errnoRet: nil), 0x0005_0001)
    }

    func testTraceAction() throws {
        XCTAssertEqual(try SeccompFilter.action("SCMP_ACT_TRACE", errnoRet: 7), 0x7ff0_0007)
    }

    func testFixedActions() throws {
        XCTAssertEqual(try SeccompFilter.action("SCMP_ACT_ALLOW", errnoRet: nil), 0x7fff_0000)
        XCTAssertEqual(try SeccompFilter.action("SCMP_ACT_KILL_PROCESS", errnoRet: nil), 0x8000_0000)
        XCTAssertEqual(try SeccompFilter.action("SCMP_ACT_KILL", errnoRet: nil), 0)
        XCTAssertEqual(try SeccompFilter.action("SCMP_ACT_KILL_THREAD", errnoRet: nil), 0)
        XCTAssertEqual(try SeccompFilter.action("SCMP_ACT_TRAP", errnoRet: nil), 0x0003_0000)
        XCTAssertEqual(try SeccompFilter.action("SCMP_ACT_LOG", errnoRet: nil), 0x7ffc_0000)
    }

    func testNotifyHandsTheSyscallToTheAgent() throws {
        XCTAssertEqual(try SeccompFilter.action("SCMP_ACT_NOTIFY", errnoRet: nil), 0x7fc0_0000)
        let notifying = Seccomp(defaultAction: "SCMP_ACT_ALLOW", syscalls: [SeccompSyscall(names: ["mkdir"], action: "SCMP_ACT_NOTIFY")])
        XCTAssertTrue(SeccompFilter(notifying).notifies)
        XCTAssertFalse(SeccompFilter(Seccomp(defaultAction: "SCMP_ACT_ALLOW")).notifies)
    }

    func testUnknownActionThrows() {
        XCTAssertThrowsError(try SeccompFilter.action("SCMP_ACT_BOGUS", errnoRet: nil)) {
            XCTAssertTrue("\($0)".contains("SCMP_ACT_BOGUS"), "\($0)")
        }
    }

    func testComparison() {
        XCTAssertNotNil(SeccompFilter.comparison("SCMP_CMP_EQ"))
        XCTAssertNotNil(SeccompFilter.comparison("SCMP_CMP_MASKED_EQ"))
        XCTAssertNil(SeccompFilter.comparison("SCMP_CMP_BOGUS"))
        XCTAssertNil(SeccompFilter.comparison("eq"))
    }

    func testEveryValidatorOperatorIsKnownToTheFilter() {
        for op in SpecValidator.seccompOperators {
            XCTAssertNotNil(SeccompFilter.comparison(op), op)
        }
    }
}
