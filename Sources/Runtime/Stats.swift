import Errors
import Linux
import OSKit
import OCI

// `events --stats`: runc's stats event (libcontainer's types.Stats), read
// from the cgroup v2 files the way runc 1.1 reads them. A controller the
// cgroup lacks leaves its numbers at zero, as runc's do; the fields runc
// does not fill on cgroup v2 (cpuset, intel_rdt, network interfaces) are
// empty here too. The vessel CLI prints it in runc's key order.
public struct StatsEvent {
    public var id: String
    public var data: StatsData
}

public struct StatsData {
    public struct CPU {
        /// Nanoseconds (cgroup v2 counts microseconds).
        public var total: UInt64 = 0, kernel: UInt64 = 0, user: UInt64 = 0
        public var periods: UInt64 = 0, throttledPeriods: UInt64 = 0, throttledTime: UInt64 = 0
    }
    public struct MemoryEntry {
        public var limit: UInt64 = 0, usage: UInt64 = 0, max: UInt64 = 0, failcnt: UInt64 = 0
    }
    public struct Memory {
        public var cache: UInt64 = 0
        public var usage = MemoryEntry(), swap = MemoryEntry(), kernel = MemoryEntry(), kernelTCP = MemoryEntry()
        public var raw: [String: UInt64] = [:]
    }
    /// One io.stat figure of one device, as runc's BlkioEntry.
    public struct IOEntry {
        public var major: UInt64, minor: UInt64, op: String, value: UInt64
    }
    public struct Hugetlb {
        public var usage: UInt64 = 0, max: UInt64 = 0, failcnt: UInt64 = 0
    }
    public var cpu = CPU()
    public var memory = Memory()
    public var pids: (current: UInt64, limit: UInt64) = (0, 0)
    /// Bytes then operations, per device: ioServiceBytesRecursive, ioServicedRecursive.
    public var ioBytes: [IOEntry] = [], ioOperations: [IOEntry] = []
    /// By runc's page-size name ("2MB", "1GB").
    public var hugetlb: [String: Hugetlb] = [:]

    public init() {}

    /// Reads the cgroup v2 directory.
    public init(cgroup directory: String) {
        func read(_ file: String) -> String? { try? FileIO.read(directory + "/" + file) }
        /// A single number; "max" (no limit) is UInt64.max, as runc reads it.
        func number(_ file: String) -> UInt64? {
            guard let text = read(file)?.split(separator: "\n").first else { return nil }
            return text == "max" ? UInt64.max : UInt64(text)
        }
        let cpuStat = Self.keyedNumbers(read("cpu.stat"))
        cpu.total = (cpuStat["usage_usec"] ?? 0) * 1000
        cpu.user = (cpuStat["user_usec"] ?? 0) * 1000
        cpu.kernel = (cpuStat["system_usec"] ?? 0) * 1000
        cpu.periods = cpuStat["nr_periods"] ?? 0
        cpu.throttledPeriods = cpuStat["nr_throttled"] ?? 0
        cpu.throttledTime = (cpuStat["throttled_usec"] ?? 0) * 1000
        if let current = number("memory.current") {
            memory.raw = Self.keyedNumbers(read("memory.stat"))
            memory.cache = memory.raw["file"] ?? 0
            memory.usage = MemoryEntry(
                limit: number("memory.max") ?? 0, usage: current,
                failcnt: Self.keyedNumbers(read("memory.events"))["max"] ?? 0)
            // runc reports swap as memory plus swap, as cgroup v1 did.
            if let swap = number("memory.swap.current") {
                let swapLimit = number("memory.swap.max") ?? 0
                let limit = swapLimit == .max || memory.usage.limit == .max ? UInt64.max : swapLimit &+ memory.usage.limit
                memory.swap = MemoryEntry(limit: limit, usage: swap &+ current)
            }
        }
        if let current = number("pids.current") {
            let limit = number("pids.max") ?? 0
            pids = (current, limit == .max ? 0 : limit)
        } else {
            // Without the pids controller runc counts cgroup.procs.
            pids.current = UInt64((read("cgroup.procs") ?? "").split(separator: "\n").count)
        }
        for line in (read("io.stat") ?? "").split(separator: "\n") {
            let fields = line.split(separator: " ")
            let device = fields.first?.split(separator: ":").compactMap { UInt64($0) } ?? []
            guard device.count == 2 else { continue }
            // "8:0 rbytes=1 wbytes=2 ...": each figure as a "key value" line.
            let values = Self.keyedNumbers(fields.dropFirst().map { $0.split(separator: "=").joined(separator: " ") }.joined(separator: "\n"))
            for (key, op) in [("rbytes", "Read"), ("wbytes", "Write"), ("dbytes", "Discard")] where values[key] != nil {
                ioBytes.append(IOEntry(major: device[0], minor: device[1], op: op, value: values[key] ?? 0))
            }
            for (key, op) in [("rios", "Read"), ("wios", "Write"), ("dios", "Discard")] where values[key] != nil {
                ioOperations.append(IOEntry(major: device[0], minor: device[1], op: op, value: values[key] ?? 0))
            }
        }
        for (size, name) in Self.hugePageSizes() {
            hugetlb[name] = Hugetlb(
                // cgroup v2 keeps no maximum usage (hugetlb.<size>.max is
                // the limit): runc leaves `max` out, and so does vessel.
                usage: number("hugetlb.\(size).current") ?? 0, max: 0,
                failcnt: Self.keyedNumbers(read("hugetlb.\(size).events"))["max"] ?? 0)
        }
    }

    /// "key value" lines (cpu.stat, memory.stat, memory.events).
    static func keyedNumbers(_ text: String?) -> [String: UInt64] {
        var numbers: [String: UInt64] = [:]
        for line in (text ?? "").split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let value = UInt64(parts[1]) { numbers[String(parts[0])] = value }
        }
        return numbers
    }

    /// The host's huge page sizes: cgroup v2's name ("2MB") and runc's
    /// (the same, "1GB" for 1024 MB), from /sys/kernel/mm/hugepages.
    static func hugePageSizes() -> [(cgroupName: String, runcName: String)] {
        FileIO.listDirectory("/sys/kernel/mm/hugepages").compactMap { entry in
            guard entry.hasPrefix("hugepages-"), entry.hasSuffix("kB"),
                let kilobytes = UInt64(entry.dropFirst("hugepages-".count).dropLast(2))
            else { return nil }
            let name = kilobytes >= 1 << 20 ? "\(kilobytes >> 20)GB" : kilobytes >= 1 << 10 ? "\(kilobytes >> 10)MB" : "\(kilobytes)KB"
            return (name, name)
        }.sorted { $0.runcName < $1.runcName }
    }
}

extension Lifecycle {
    public func stats(_ id: ContainerID) throws -> StatsEvent {
        let record = try store.load(id)
        return try record.backend(in: store).stats(record, status: store.status(of: record))
    }
}
