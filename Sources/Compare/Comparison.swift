// The result of `vessel compare`: the same bundle in linux and VM mode,
// side by side under Popek and Goldberg's three headings (equivalence,
// safety, performance), with the raw facts and one verdict per line.
public struct Comparison: Codable, Sendable {
    public struct ModeResult: Codable, Sendable {
        public var mode: String
        public var stdout: String
        public var stderr: String
        public var exitStatus: Int32
        /// Whose kernel the workload talks to: "host" or "guest".
        public var kernelOwner: String
        public var probe: ProbeReport
        /// Why the probe bundle could not report, where it could not.
        public var probeFailure: String?
        /// The probe saw a process of the host (vessel compare itself).
        public var hostProcessesVisible: Bool
        /// Host system calls the workload can make directly.
        public var hostSyscalls: Int
        /// Each escape-class interface the probe tried, and what stopped it.
        public var boundary: [BoundaryResult]
        /// What the workload learned about the machine, and whether it is the host's.
        public var disclosures: [Disclosure]
        public var firstOutputMilliseconds: [Double]
        public var exitMilliseconds: [Double]
        /// Median over the runs of the peak summed PSS of the runtime's,
        /// the container's and (VM mode) the supervisor's and QEMU's processes.
        public var hostMemoryPSSMiB: Double
        public var diskWrittenBytes: Int
        public var accelerator: String?
        /// VM mode: how the timed runs' guests came up ("template <hash>",
        /// "cold"), the most frequent first.
        public var vmBoot: String?
    }

    public struct Row: Codable, Sendable {
        public var section: String
        public var measure: String
        public var linux: String
        public var vm: String
        public var verdict: String
    }

    public var bundle: String
    public var runs: Int
    public var hostKernel: String
    public var hostCPUs: Int
    public var knownSyscalls: Int
    public var vmmSurface: String
    public var host: HostFacts
    public var linux: ModeResult
    public var vm: ModeResult
    public var rows: [Row]
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return 0 }
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

// Number formats shared by the table, the charts and the verdict.
extension Comparison {
    static func milliseconds(_ value: Double) -> String {
        value >= 1000 ? "\(Double(Int(value / 10)) / 100) s" : "\(Int(value.rounded())) ms"
    }

    static func mebibytes(_ value: Double) -> String { "\(Double(Int(value * 10)) / 10) MiB" }

    static func bytes(_ value: Int) -> String { value >= 1 << 20 ? "\(value >> 20) MiB" : "\(value) B" }

    static func ratio(_ a: Double, _ b: Double) -> String {
        guard b > 0 else { return "n/a" }
        let value = a / b
        return value >= 10 ? "\(Int(value.rounded()))x" : "\(Double(Int(value * 10)) / 10)x"
    }

    /// 4.9 s, 34 min, 5.2 h, 3.1 days.
    static func duration(_ seconds: Double) -> String {
        func tenths(_ value: Double) -> String { "\(Double(Int(value * 10)) / 10)" }
        if seconds < 120 { return tenths(seconds) + " s" }
        if seconds < 7200 { return "\(Int(seconds / 60)) min" }
        if seconds < 172_800 { return tenths(seconds / 3600) + " h" }
        return tenths(seconds / 86400) + " days"
    }

    static func list(_ names: [String]) -> String { names.isEmpty ? "none" : names.joined(separator: ", ") }
}
