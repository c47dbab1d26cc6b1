import Errors
import Linux
import OCI

// `events --stats`: runc's stats event, read from the cgroup v2 files that
// exist (cpu.stat always; memory, pids, hugetlb where their controller is).
public struct StatsEvent: Codable {
    public var type = "stats"
    public var id: String
    public var data: StatsData
}

public struct StatsData: Codable {
    public struct CPUUsage: Codable { public var total: UInt64; public var user: UInt64; public var kernel: UInt64 }
    public struct CPU: Codable { public var usage: CPUUsage }
    public struct MemoryUsage: Codable { public var usage: UInt64; public var max: UInt64? }
    public struct Memory: Codable { public var usage: MemoryUsage }
    public struct Pids: Codable { public var current: UInt64; public var limit: UInt64? }
    public var cpu: CPU
    public var memory: Memory?
    public var pids: Pids?
}

extension Lifecycle {
    public func stats(_ id: ContainerID) throws -> StatsEvent {
        let record = try store.load(id)
        let status = store.status(of: record)
        if record.vm != nil {
            throw VesselError.unsupported("vm: events: container \(id.value) runs in a VM; its cgroup is in the guest, whose stats vessel does not collect yet")
        }
        guard status != .stopped, let cgroup = record.cgroup, cgroup.exists else {
            throw VesselError.wrongState(id: id.value, operation: "read stats of", status: status.rawValue)
        }
        func number(_ file: String) -> UInt64? {
            (try? FileIO.read(cgroup.directory + "/" + file)).flatMap { UInt64($0.split(separator: "\n").first ?? "") }
        }
        var cpuStat: [String: UInt64] = [:]
        for line in ((try? FileIO.read(cgroup.directory + "/cpu.stat")) ?? "").split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let value = UInt64(parts[1]) { cpuStat[String(parts[0])] = value }
        }
        // cgroup v2 counts microseconds; runc reports nanoseconds.
        let cpu = StatsData.CPU(usage: .init(total: (cpuStat["usage_usec"] ?? 0) * 1000,
                                             user: (cpuStat["user_usec"] ?? 0) * 1000,
                                             kernel: (cpuStat["system_usec"] ?? 0) * 1000))
        let memory = number("memory.current").map { StatsData.Memory(usage: .init(usage: $0, max: number("memory.peak"))) }
        let pids = number("pids.current").map { StatsData.Pids(current: $0, limit: number("pids.max")) }
        return StatsEvent(id: id.value, data: StatsData(cpu: cpu, memory: memory, pids: pids))
    }
}
