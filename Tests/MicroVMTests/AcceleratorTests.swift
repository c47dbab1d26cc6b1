import MicroVM
import XCTest

final class AcceleratorTests: XCTestCase {
    func testTCGWhenAskedAndPVMFallsBack() throws {
        XCTAssertEqual(try Accelerator.choose(.tcg).accelerator, .tcg)
        let modules = FileManager.default.temporaryDirectory.appendingPathComponent("mods-\(getpid())").path
        try FileManager.default.createDirectory(atPath: modules + "/kvm_pvm", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: modules) }
        let decision = try Accelerator.choose(.auto, sysModule: modules)
        XCTAssertEqual(decision.accelerator, .tcg)
        if access("/dev/kvm", R_OK | W_OK) == 0 { XCTAssertTrue(decision.reason.contains("PVM"), decision.reason) }
    }
}
