import Foundation
import XCTest

// What the VM-mode test classes share.
extension Harness {
    /// Why VM mode cannot run here, if it cannot.
    static func vmMissing() -> String? {
        if !FileManager.default.fileExists(atPath: VMTests.kernel) { return "no guest kernel at \(VMTests.kernel): run scripts/fetch-vm-kernel.sh" }
        if !FileManager.default.isExecutableFile(atPath: "/usr/bin/qemu-system-x86_64") { return "no QEMU: apt-get install qemu-system-x86" }
        return nil
    }

    /// `vessel --vm --log <file> run`: the outcome and what --log said.
    func vmRun(_ bundle: String, _ id: String, detached: Bool = false) throws -> (outcome: Outcome, log: String) {
        let log = scratch + "/\(id).log"
        let outcome = try vessel(["--vm", "--log", log, "run"] + (detached ? ["-d"] : []) + ["--bundle", bundle, id])
        return (outcome, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
    }
}
