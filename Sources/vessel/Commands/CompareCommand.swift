import Errors
import ArgumentParser
import Compare
import Glibc
import Linux
import OSKit
import MicroVM
import Runtime

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Run a bundle in linux and VM mode and compare equivalence, safety (by live probes) and performance.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "Runs per mode for the timings (medians).") var runs: Int = 5
    @Option(help: "Output: table, or json with every probe result.") var format: ReportFormat = .table
    @Option(help: "Also write a self-contained HTML report (verdict, tables, log-scale charts) to this file.") var html: String?
    @Option(name: .customLong("probe-bundle"), help: "The probe bundle (bundles/probe, built by its build-rootfs.sh).")
    var probeBundle: String = "bundles/probe"
    @Argument(help: "The bundle to compare.") var bundle: String

    enum ReportFormat: String, ExpressibleByArgument { case table, json }

    func run() throws {
        try perform(global) {
            guard runs >= 1 else { throw VesselError.invalidArgument("--runs must be at least 1") }
            var vmFlags = ["--vm-accel", global.vmAccel.rawValue, "--vm-boot-timeout", "\(global.vmBootTimeout)"]
            if let kernel = global.vmKernel { vmFlags += ["--vm-kernel", kernel] }
            if let qemu = global.vmQemu { vmFlags += ["--vm-qemu", qemu] }
            let comparer = Comparer(
                bundle: bundle, probeRootfs: probeBundle + "/rootfs", runs: runs,
                vmFlags: vmFlags, settings: global.vmSettings)
            let comparison = try comparer.run { Log.logger.info("\($0)") }
            if let html {
                try FileIO.write(html, ComparisonRenderer.html(comparison), flags: O_WRONLY | O_CREAT | O_TRUNC)
            }
            print(format == .json ? try ComparisonRenderer.json(comparison) : ComparisonRenderer.table(comparison), terminator: "")
        }
    }
}
