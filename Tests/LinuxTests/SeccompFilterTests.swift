import Glibc
import Linux
import OCI
import XCTest

// Never calls load(): that would install the filter into the test process.
final class SeccompFilterTests: XCTestCase {
    func testUnknownSyscallsAreListed() {
        let profile = Seccomp(defaultAction: "SCMP_ACT_ERRNO", syscalls: [
            SeccompSyscall(names: ["read", "not_a_syscall", "write"], action: "SCMP_ACT_ALLOW"),
            SeccompSyscall(names: ["not_a_syscall", "also_not_one"], action: "SCMP_ACT_LOG"),
        ])
        let filter = SeccompFilter(profile)
        XCTAssertEqual(filter.unknownSyscalls, ["not_a_syscall", "also_not_one"])
        XCTAssertFalse(filter.unknownSyscalls.contains("read"))
        XCTAssertEqual(filter.profile, profile)
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

    func testNotifyIsUnsupported() {
        XCTAssertThrowsError(try SeccompFilter.action("SCMP_ACT_NOTIFY", errnoRet: nil)) {
            XCTAssertTrue("\($0)".contains("SCMP_ACT_NOTIFY"), "\($0)")
        }
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
