import Errors
import Linux
import OSKit
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
        return try record.backend(in: store).stats(record, status: store.status(of: record))
    }
}
