import MicroVM
import OCI
import XCTest

final class GuestSizeTests: XCTestCase {
    func testDefaultsWithoutResources() throws {
        XCTAssertEqual(try GuestSize.from(nil, hostCPUs: 8), GuestSize(vcpus: 1, memoryMiB: 256))
    }

    func testQuotaRoundsUpToWholeCPUsAndIsCappedByTheHost() throws {
        var resources = Resources()
        resources.cpu = Resources.CPU()
        resources.cpu?.quota = 150_000
        resources.cpu?.period = 100_000
        XCTAssertEqual(try GuestSize.from(resources, hostCPUs: 8).vcpus, 2)
        resources.cpu?.quota = 900_000
        XCTAssertEqual(try GuestSize.from(resources, hostCPUs: 4).vcpus, 4)
    }

    func testCpusetSizeGivesVcpus() throws {
        var resources = Resources()
        resources.cpu = Resources.CPU()
        resources.cpu?.cpus = "0-2,5"
        XCTAssertEqual(try GuestSize.from(resources, hostCPUs: 8).vcpus, 4)
        resources.cpu?.cpus = "3-1"
        XCTAssertThrowsError(try GuestSize.from(resources, hostCPUs: 8)) { error in
            XCTAssertTrue("\(error)".contains("linux.resources.cpu.cpus"), "\(error)")
        }
    }

    func testMemoryLimitPlusOverhead() throws {
        var resources = Resources()
        resources.memory = Resources.Memory()
        resources.memory?.limit = 64 << 20
        XCTAssertEqual(try GuestSize.from(resources, hostCPUs: 1).memoryMiB, 64 + GuestSize.overheadMiB)
    }
}
