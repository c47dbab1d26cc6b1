import CVessel
import Foundation
import Linux
import OSKit
import OCI
import XCTest

final class CapabilitySetTests: XCTestCase {
    func testNumbersFromLibcap() {
        XCTAssertEqual(CapabilitySet.number(of: "CAP_CHOWN"), 0)
        XCTAssertEqual(CapabilitySet.number(of: "CAP_KILL"), 5)
        XCTAssertEqual(CapabilitySet.number(of: "CAP_NET_BIND_SERVICE"), 10)
        XCTAssertEqual(CapabilitySet.number(of: "CAP_SYS_ADMIN"), 21)
        XCTAssertNil(CapabilitySet.number(of: "CAP_NOT_REAL"))
        XCTAssertNil(CapabilitySet.number(of: "chown"), "names need the CAP_ prefix, as in config.json")
        XCTAssertNil(CapabilitySet.number(of: ""))
    }

    func testMasksPerSet() {
        let caps = Capabilities(
            bounding: ["CAP_CHOWN", "CAP_KILL"], effective: ["CAP_KILL"],
            inheritable: [], permitted: ["CAP_CHOWN", "CAP_KILL", "CAP_SYS_ADMIN"],
            ambient: nil)
        let set = CapabilitySet(caps)
        XCTAssertEqual(set.bounding, 0b10_0001)
        XCTAssertEqual(set.effective, 1 << 5)
        XCTAssertEqual(set.inheritable, 0)
        XCTAssertEqual(set.permitted, (1 << 0) | (1 << 5) | (1 << 21))
        XCTAssertEqual(set.ambient, 0)
        XCTAssertEqual(set.unknown, [])
    }

    func testNilCapabilitiesIsEmpty() {
        let set = CapabilitySet(nil)
        XCTAssertEqual(set, CapabilitySet(Capabilities()))
        XCTAssertEqual(set.bounding | set.effective | set.permitted | set.inheritable | set.ambient, 0)
    }

    func testUnknownNamesAreCollectedOnce() {
        let caps = Capabilities(bounding: ["CAP_CHOWN", "CAP_NOT_REAL", "chown"], effective: ["CAP_NOT_REAL"])
        let set = CapabilitySet(caps)
        XCTAssertEqual(set.bounding, 1, "known names still count")
        XCTAssertEqual(set.effective, 0)
        XCTAssertEqual(set.unknown, ["CAP_NOT_REAL", "chown"])
    }

    func testCapabilityAboveLastCapIsUnknown() {
        let caps = Capabilities(bounding: ["CAP_CHOWN", "CAP_KILL", "CAP_FOWNER"])  // 0, 5, 3
        let set = CapabilitySet(caps, lastCap: 3)
        XCTAssertEqual(set.bounding, (1 << 0) | (1 << 3))
        XCTAssertEqual(set.unknown, ["CAP_KILL"])
    }

    /// CapBnd, parsed by bytes, is what a plain reading of /proc/self/status says.
    func testCurrentBoundingIsTheStatusLine() throws {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let line = try XCTUnwrap(status.components(separatedBy: "\n").first { $0.hasPrefix("CapBnd:") })
        let hex = line.dropFirst("CapBnd:".count).trimmingCharacters(in: .whitespaces)
        XCTAssertEqual(CapabilitySet.currentBounding(), UInt64(hex, radix: 16))
        XCTAssertEqual(vessel_last_cap(), vessel_last_cap(), "the cached value is the one read")
        XCTAssertGreaterThanOrEqual(vessel_last_cap(), 37)
    }
}
