import Errors
import Foundation
import Linux
import OSKit
import OCI
import XCTest

final class CgroupResourcesTests: XCTestCase {
    func testSharesToWeightMatchesRunc() {
        XCTAssertEqual(CgroupResources.weight(fromShares: 2), 1)
        XCTAssertEqual(CgroupResources.weight(fromShares: 1024), 39)
        XCTAssertEqual(CgroupResources.weight(fromShares: 262_144), 10_000)
    }

    func testSharesOutOfRangeAreClamped() {
        XCTAssertEqual(CgroupResources.weight(fromShares: 1), 1)
        XCTAssertEqual(CgroupResources.weight(fromShares: 1_000_000), 10_000)
    }

    func testBlkioWeightToIOWeight() {
        XCTAssertEqual(CgroupResources.ioWeight(fromBlkioWeight: 10), 1)
        XCTAssertEqual(CgroupResources.ioWeight(fromBlkioWeight: 1000), 10_000)
        XCTAssertEqual(CgroupResources.ioWeight(fromBlkioWeight: 500), 1 + (490 * 9999) / 990)
    }

    // MARK: - helpers

    private func settings(_ change: (inout Resources) -> Void) throws(VesselError) -> [CgroupSetting] {
        var resources = Resources()
        change(&resources)
        return try CgroupResources.settings(for: resources)
    }

    /// A setting as plain values (CgroupSetting has no public initializer).
    private struct Row: Equatable {
        let file: String, value: String, field: String
        init(_ file: String, _ value: String, _ field: String) {
            self.file = file
            self.value = value
            self.field = field
        }
    }

    private func rows(_ settings: [CgroupSetting]) -> [Row] {
        settings.map { Row($0.file, $0.value, $0.field) }
    }

    private func values(_ settings: [CgroupSetting]) -> [String: String] {
        Dictionary(settings.map { ($0.file, $0.value) }, uniquingKeysWith: { first, _ in first })
    }

    private func assertUnsupported(
        field: String, file: StaticString = #filePath, line: UInt = #line,
        _ change: (inout Resources) -> Void
    ) {
        do {
            let result = try settings(change)
            XCTFail("expected \(field) to be unsupported, got \(result)", file: file, line: line)
        } catch {
            XCTAssertEqual(error.kind, .config, "\(error)", file: file, line: line)
            XCTAssertEqual(error.field, field, file: file, line: line)
            XCTAssertTrue(error.description.contains(field), error.description, file: file, line: line)
        }
    }

    // MARK: - memory

    func testEmptyResourcesGiveNoSettings() throws {
        XCTAssertEqual(rows(try settings { _ in }), [])
    }

    func testMemoryLimit() throws {
        let result = try settings { $0.memory = .init(limit: 1 << 20) }
        XCTAssertEqual(rows(result), [Row("memory.max", "1048576", "linux.resources.memory.limit")])
        XCTAssertEqual(result.first?.controller, "memory")
    }

    func testMemoryLimitMinusOneIsMax() throws {
        XCTAssertEqual(values(try settings { $0.memory = .init(limit: -1) }), ["memory.max": "max"])
    }

    func testMemoryReservationIsLow() throws {
        let result = try settings { $0.memory = .init(reservation: 4096) }
        XCTAssertEqual(rows(result), [Row("memory.low", "4096", "linux.resources.memory.reservation")])
    }

    func testSwapIsMemoryPlusSwap() throws {
        let result = try settings { $0.memory = .init(limit: 100_000, swap: 200_000) }
        XCTAssertEqual(values(result), ["memory.max": "100000", "memory.swap.max": "100000"])
        XCTAssertEqual(result.first { $0.file == "memory.swap.max" }?.field, "linux.resources.memory.swap")
    }

    func testSwapEqualToLimitMeansNoSwap() throws {
        XCTAssertEqual(values(try settings { $0.memory = .init(limit: 100_000, swap: 100_000) })["memory.swap.max"], "0")
    }

    func testSwapMinusOneIsMax() throws {
        XCTAssertEqual(values(try settings { $0.memory = .init(limit: 100_000, swap: -1) })["memory.swap.max"], "max")
    }

    func testSwapBelowLimitThrows() {
        assertUnsupported(field: "linux.resources.memory.swap") { $0.memory = .init(limit: 100_000, swap: 50_000) }
    }

    func testSwapWithoutLimitThrows() {
        assertUnsupported(field: "linux.resources.memory.swap") { $0.memory = .init(swap: 200_000) }
    }

    func testSwappinessIsUnsupported() {
        assertUnsupported(field: "linux.resources.memory.swappiness") {
            var memory = Resources.Memory(limit: 1 << 20)
            memory.swappiness = 60
            $0.memory = memory
        }
    }

    func testDisableOOMKillerIsUnsupported() {
        assertUnsupported(field: "linux.resources.memory.disableOOMKiller") {
            var memory = Resources.Memory()
            memory.disableOOMKiller = true
            $0.memory = memory
        }
    }

    // MARK: - cpu

    func testCPUQuotaAndPeriod() throws {
        let result = try settings { $0.cpu = .init(quota: 50_000, period: 100_000) }
        XCTAssertEqual(rows(result), [Row("cpu.max", "50000 100000", "linux.resources.cpu.quota")])
        XCTAssertEqual(result.first?.controller, "cpu")
    }

    func testCPUQuotaOnlyUsesDefaultPeriod() throws {
        XCTAssertEqual(values(try settings { $0.cpu = .init(quota: 20_000) }), ["cpu.max": "20000 100000"])
    }

    func testCPUPeriodOnlyKeepsQuotaMax() throws {
        let result = try settings { $0.cpu = .init(period: 250_000) }
        XCTAssertEqual(rows(result), [Row("cpu.max", "max 250000", "linux.resources.cpu.period")])
    }

    func testCPUNegativeQuotaIsMax() throws {
        XCTAssertEqual(values(try settings { $0.cpu = .init(quota: -1, period: 100_000) }), ["cpu.max": "max 100000"])
    }

    func testCPUSharesToWeight() throws {
        let result = try settings { $0.cpu = .init(shares: 1024) }
        XCTAssertEqual(rows(result), [Row("cpu.weight", "39", "linux.resources.cpu.shares")])
    }

    func testCPUSetCPUsAndMems() throws {
        let result = try settings { $0.cpu = .init(cpus: "0-3", mems: "0") }
        XCTAssertEqual(values(result), ["cpuset.cpus": "0-3", "cpuset.mems": "0"])
        XCTAssertEqual(result.map(\.controller), ["cpuset", "cpuset"])
        XCTAssertEqual(result.map(\.field), ["linux.resources.cpu.cpus", "linux.resources.cpu.mems"])
    }

    func testCPUEmptyCPUsIsIgnored() throws {
        XCTAssertEqual(rows(try settings { $0.cpu = .init(cpus: "", mems: "") }), [])
    }

    // MARK: - pids

    func testPidsLimit() throws {
        let result = try settings { $0.pids = .init(limit: 64) }
        XCTAssertEqual(rows(result), [Row("pids.max", "64", "linux.resources.pids.limit")])
        XCTAssertEqual(result.first?.controller, "pids")
    }

    func testPidsZeroIsUnsetAndNegativeIsMax() throws {
        XCTAssertEqual(values(try settings { $0.pids = .init(limit: 0) }), [:])
        XCTAssertEqual(values(try settings { $0.pids = .init(limit: -1) }), ["pids.max": "max"])
    }

    // MARK: - io

    func testBlockIOWeight() throws {
        let result = try settings { $0.blockIO = .init(weight: 1000) }
        XCTAssertEqual(rows(result), [Row("io.weight", "default 10000", "linux.resources.blockIO.weight")])
        XCTAssertEqual(result.first?.controller, "io")
    }

    func testBlockIOThrottleDevices() throws {
        let result = try settings {
            var blockIO = Resources.BlockIO()
            blockIO.throttleReadBpsDevice = [.init(major: 8, minor: 0, rate: 1_048_576)]
            blockIO.throttleWriteIOPSDevice = [.init(major: 8, minor: 16, rate: 100)]
            $0.blockIO = blockIO
        }
        XCTAssertEqual(
            rows(result),
            [
                Row("io.max", "8:0 rbps=1048576", "linux.resources.blockIO.throttleReadBpsDevice"),
                Row("io.max", "8:16 wiops=100", "linux.resources.blockIO.throttleWriteIOPSDevice"),
            ])
    }

    // MARK: - hugetlb, network, rdma, unified

    func testHugepageLimits() throws {
        let result = try settings { $0.hugepageLimits = [.init(pageSize: "2MB", limit: 209_715_200)] }
        XCTAssertEqual(rows(result), [Row("hugetlb.2MB.max", "209715200", "linux.resources.hugepageLimits[0]")])
        XCTAssertEqual(result.first?.controller, "hugetlb")
    }

    func testNetworkClassIDIsUnsupported() throws {
        let network = try JSONDecoder().decode(Resources.Network.self, from: Data(#"{"classID": 1048577}"#.utf8))
        assertUnsupported(field: "linux.resources.network") { $0.network = network }
    }

    func testEmptyNetworkIsIgnored() throws {
        let network = try JSONDecoder().decode(Resources.Network.self, from: Data("{}".utf8))
        XCTAssertEqual(rows(try settings { $0.network = network }), [])
    }

    func testRdma() throws {
        let rdma = try JSONDecoder().decode(
            [String: Resources.RdmaLimit].self,
            from: Data(#"{"mlx5_1": {"hcaHandles": 3, "hcaObjects": 10000}}"#.utf8))
        XCTAssertEqual(
            rows(try settings { $0.rdma = rdma }),
            [
                Row("rdma.max", "mlx5_1 hca_handle=3 hca_object=10000", "linux.resources.rdma.mlx5_1")
            ])
    }

    func testUnifiedPassthroughIsSortedByKey() throws {
        let result = try settings { $0.unified = ["memory.high": "1G", "io.latency": "8:0 target=10"] }
        XCTAssertEqual(
            rows(result),
            [
                Row("io.latency", "8:0 target=10", "linux.resources.unified.io.latency"),
                Row("memory.high", "1G", "linux.resources.unified.memory.high"),
            ])
        XCTAssertEqual(result.map(\.controller), ["io", "memory"])
    }

    func testUnifiedKeyWithSlashThrows() {
        assertUnsupported(field: "linux.resources.unified.../memory.max") { $0.unified = ["../memory.max": "1"] }
        assertUnsupported(field: "linux.resources.unified.a/memory.max") { $0.unified = ["a/memory.max": "1"] }
    }

    func testUnifiedKeyWithoutDotThrows() {
        assertUnsupported(field: "linux.resources.unified.cgroup") { $0.unified = ["cgroup": "1"] }
    }

    func testControllerIsPrefixBeforeFirstDot() throws {
        let result = try settings {
            $0.memory = .init(limit: 100, swap: 200)
            $0.hugepageLimits = [.init(pageSize: "1GB", limit: 0)]
            $0.unified = ["cgroup.max.depth": "4"]
        }
        XCTAssertEqual(result.map(\.file), ["memory.max", "memory.swap.max", "hugetlb.1GB.max", "cgroup.max.depth"])
        XCTAssertEqual(result.map(\.controller), ["memory", "memory", "hugetlb", "cgroup"])
    }

    // MARK: - Cgroup.path

    func testCgroupPathDefaultsToVesselID() {
        XCTAssertEqual(Cgroup.path(cgroupsPath: nil, containerID: "web"), "/vessel/web")
        XCTAssertEqual(Cgroup.path(cgroupsPath: "", containerID: "web"), "/vessel/web")
    }

    func testCgroupPathAbsoluteIsNormalized() {
        XCTAssertEqual(Cgroup.path(cgroupsPath: "/a/b", containerID: "x"), "/a/b")
        XCTAssertEqual(Cgroup.path(cgroupsPath: "/a/../b", containerID: "x"), "/b")
        XCTAssertEqual(Cgroup.path(cgroupsPath: "/a//./b/", containerID: "x"), "/a/b")
        XCTAssertEqual(Cgroup.path(cgroupsPath: "/../../a", containerID: "x"), "/a")
    }

    func testCgroupPathRelativeIsUnderOwnCgroup() {
        let path = Cgroup.path(cgroupsPath: "a/b", containerID: "x")
        XCTAssertTrue(path.hasPrefix("/"), path)
        XCTAssertTrue(path.hasSuffix("/a/b"), path)
        XCTAssertFalse(path.contains("//"), path)
    }

    // MARK: - file mapping against a scratch directory

    private var scratch: String!

    override func setUpWithError() throws {
        let template = NSTemporaryDirectory() + "/vessel-cgroup-XXXXXX"
        var buffer = Array(template.utf8CString)
        guard let made = mkdtemp(&buffer) else { throw CocoaError(.fileWriteUnknown) }
        scratch = String(cString: made)
    }

    override func tearDownWithError() throws {
        if let scratch { try? FileManager.default.removeItem(atPath: scratch) }
    }

    private func touch(_ path: String, _ contents: String = "") throws {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent,
            withIntermediateDirectories: true)
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(contents.utf8)))
    }

    private func read(_ path: String) throws -> String {
        try String(contentsOfFile: path, encoding: .utf8)
    }

    func testApplyWritesEachSettingToItsFile() throws {
        let cgroup = Cgroup(mountPoint: scratch, path: "/x")
        XCTAssertEqual(cgroup.directory, scratch + "/x")
        let result = try settings {
            $0.memory = .init(limit: 1 << 20)
            $0.cpu = .init(quota: 50_000, period: 100_000)
            $0.pids = .init(limit: -1)
        }
        for file in ["memory.max", "cpu.max", "pids.max"] { try touch(scratch + "/x/" + file, "stale contents that are long") }
        try cgroup.apply(result)
        XCTAssertEqual(try read(scratch + "/x/memory.max"), "1048576")
        XCTAssertEqual(try read(scratch + "/x/cpu.max"), "50000 100000")
        XCTAssertEqual(try read(scratch + "/x/pids.max"), "max")
    }

    func testApplyFailureNamesTheField() throws {
        let cgroup = Cgroup(mountPoint: scratch, path: "/x")
        try FileManager.default.createDirectory(atPath: scratch + "/x", withIntermediateDirectories: true)
        // memory.max does not exist: the kernel would not have the controller enabled.
        let memory = try settings { $0.memory = .init(limit: 1) }
        XCTAssertThrowsError(try cgroup.apply(memory)) {
            let text = "\($0)"
            XCTAssertTrue(text.contains("linux.resources.memory.limit"), text)
            XCTAssertTrue(text.contains("memory.max"), text)
        }
    }

    func testCreateReportsMissingController() throws {
        try touch(scratch + "/cgroup.controllers", "cpu io\n")
        let cgroup = Cgroup(mountPoint: scratch, path: "/x")
        let result = try settings {
            $0.cpu = .init(shares: 1024)
            $0.memory = .init(limit: 1 << 20)
        }
        XCTAssertThrowsError(try cgroup.create(settings: result)) { error in
            XCTAssertEqual(
                error as? VesselError,
                .controllerUnavailable(controller: "memory", field: "linux.resources.memory.limit", cgroup: scratch))
            let text = "\(error)"
            XCTAssertTrue(text.contains("memory"), text)
            XCTAssertTrue(text.contains("linux.resources.memory.limit"), text)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch + "/x"), "nothing is created when a controller is missing")
    }

    func testCreateEnablesControllersInAncestorsAndApplies() throws {
        // Lay out what cgroupfs would provide on mkdir: interface files.
        try touch(scratch + "/cgroup.controllers", "cpu memory pids\n")
        try touch(scratch + "/cgroup.subtree_control", "memory pids\n")  // already enabled at the top
        try touch(scratch + "/a/cgroup.subtree_control")
        try touch(scratch + "/a/b/memory.max")
        try touch(scratch + "/a/b/pids.max")
        let cgroup = Cgroup(mountPoint: scratch, path: "/a/b")
        let result = try settings {
            $0.memory = .init(limit: 4096)
            $0.pids = .init(limit: 10)
        }
        let created = try cgroup.create(settings: result)
        XCTAssertFalse(created, "the directory existed before create")
        // Already enabled: left alone.
        XCTAssertEqual(try read(scratch + "/cgroup.subtree_control"), "memory pids\n")
        // The last enable written wins in a plain file; the kernel would keep both.
        XCTAssertEqual(try read(scratch + "/a/cgroup.subtree_control"), "+pids")
        XCTAssertEqual(try read(scratch + "/a/b/memory.max"), "4096")
        XCTAssertEqual(try read(scratch + "/a/b/pids.max"), "10")
        XCTAssertTrue(cgroup.exists)
    }
}

final class CgroupZeroMeansUnsetTests: XCTestCase {
    /// runc treats 0 as "not set" for pids and memory; podman sends pids 0.
    func testZeroValuesProduceNoSettings() throws {
        var resources = Resources()
        resources.pids = Resources.Pids(limit: 0)
        resources.memory = Resources.Memory(limit: 0, reservation: 0, swap: 0)
        XCTAssertEqual(try CgroupResources.settings(for: resources).map(\.file), [])
        resources.pids = Resources.Pids(limit: -1)
        XCTAssertEqual(try CgroupResources.settings(for: resources).map(\.value), ["max"])
    }
}
