import Errors
import OCI

// The guest's vCPUs and memory, from linux.resources: the CPU quota over
// its period (rounded up) or the cpuset's size, and the memory limit plus
// what the guest kernel and agent need. Defaults: 1 vCPU, 256 MiB.
public struct GuestSize: Codable, Sendable, Equatable {
    public var vcpus: Int
    public var memoryMiB: Int

    public init(vcpus: Int, memoryMiB: Int) {
        self.vcpus = vcpus
        self.memoryMiB = memoryMiB
    }

    public static let defaultMemoryMiB = 256
    /// Guest kernel, initramfs (vessel itself) and page cache headroom.
    public static let overheadMiB = 160

    public static func from(_ resources: Resources?, hostCPUs: Int) throws -> GuestSize {
        var vcpus = 1
        if let cpu = resources?.cpu {
            if let quota = cpu.quota, quota > 0 {
                let period = Int64(cpu.period ?? 100_000)
                guard period > 0 else { throw VesselError.vmConfig("linux.resources.cpu.period must be positive") }
                vcpus = Int((quota + period - 1) / period)
            } else if let cpus = cpu.cpus, !cpus.isEmpty {
                vcpus = try cpuCount(cpus)
            }
        }
        vcpus = max(1, min(vcpus, hostCPUs))
        var memory = defaultMemoryMiB
        if let limit = resources?.memory?.limit, limit > 0 {
            memory = Int((limit + (1 << 20) - 1) >> 20) + overheadMiB
        }
        return GuestSize(vcpus: vcpus, memoryMiB: memory)
    }

    /// "0-3,6" has 5 CPUs.
    static func cpuCount(_ list: String) throws -> Int {
        var count = 0
        for part in list.split(separator: ",") {
            let bounds = part.split(separator: "-").map { Int(String($0).filter { $0 != " " }) }
            switch (bounds.first ?? nil, bounds.count == 2 ? bounds[1] : nil, bounds.count) {
            case (_?, _, 1):
                count += 1
            case let (low?, high?, 2) where high >= low:
                count += high - low + 1
            default:
                throw VesselError.vmConfig("linux.resources.cpu.cpus \(list.debugDescription) is not a CPU list")
            }
        }
        return count
    }
}
