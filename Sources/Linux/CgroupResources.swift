import OSKit
import Errors
import OCI

// linux.resources translated to cgroup v2 interface files. Pure, so the
// mapping is unit-tested without a cgroup; Cgroup applies the result.
public struct CgroupSetting: Equatable, Sendable {
    public let file: String
    public let value: String
    /// The config field it comes from, for error messages.
    public let field: String

    /// The controller that provides `file` (`memory.max` -> `memory`).
    public var controller: String { String(file.prefix { $0 != "." }) }
}

public enum CgroupResources {
    /// Controllers that belong to the cgroup core, always present.
    static let coreControllers: Set<String> = ["cgroup"]

    public static func settings(for resources: Resources) throws(VesselError) -> [CgroupSetting] {
        var out: [CgroupSetting] = []
        if let memory = resources.memory { out += try memorySettings(memory) }
        if let cpu = resources.cpu { out += cpuSettings(cpu) }
        // As runc: a limit of 0 means "not set".
        if let pids = resources.pids, pids.limit != 0 {
            out.append(CgroupSetting(file: "pids.max", value: pids.limit > 0 ? "\(pids.limit)" : "max", field: "linux.resources.pids.limit"))
        }
        if let blockIO = resources.blockIO { out += ioSettings(blockIO) }
        for (index, page) in (resources.hugepageLimits ?? []).enumerated() {
            out.append(
                CgroupSetting(
                    file: "hugetlb.\(page.pageSize).max", value: "\(page.limit)",
                    field: "linux.resources.hugepageLimits[\(index)]"))
        }
        if let network = resources.network, network.classID != nil || !(network.priorities ?? []).isEmpty {
            throw .unsupported(field: "linux.resources.network", reason: "net_cls and net_prio exist only in cgroup v1; vessel supports cgroup v2 only")
        }
        for (device, limit) in (resources.rdma ?? [:]).sorted(by: { $0.key < $1.key }) {
            var parts = [device]
            if let handles = limit.hcaHandles { parts.append("hca_handle=\(handles)") }
            if let objects = limit.hcaObjects { parts.append("hca_object=\(objects)") }
            out.append(CgroupSetting(file: "rdma.max", value: parts.joined(separator: " "), field: "linux.resources.rdma.\(device)"))
        }
        for (key, value) in (resources.unified ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard !key.contains("/"), key.contains(".") else {
                throw .unsupported(field: "linux.resources.unified.\(key)", reason: "not a cgroup interface file name")
            }
            out.append(CgroupSetting(file: key, value: value, field: "linux.resources.unified.\(key)"))
        }
        return out
    }

    static func memorySettings(_ memory: Resources.Memory) throws(VesselError) -> [CgroupSetting] {
        var out: [CgroupSetting] = []
        let field = "linux.resources.memory"
        // As runc: 0 means "not set" for limit, reservation and swap.
        if let limit = memory.limit, limit != 0 {
            out.append(CgroupSetting(file: "memory.max", value: limit < 0 ? "max" : "\(limit)", field: field + ".limit"))
        }
        if let reservation = memory.reservation, reservation != 0 {
            out.append(CgroupSetting(file: "memory.low", value: reservation < 0 ? "max" : "\(reservation)", field: field + ".reservation"))
        }
        if let swap = memory.swap, swap != 0 {
            // The spec's swap is memory+swap (v1 semantics); v2 limits swap alone.
            let value: String
            if swap < 0 {
                value = "max"
            } else if let limit = memory.limit, limit > 0 {
                guard swap >= limit else {
                    throw .unsupported(field: field + ".swap", reason: "memory+swap limit \(swap) is below the memory limit \(limit)")
                }
                value = "\(swap - limit)"
            } else {
                throw .unsupported(field: field + ".swap", reason: "a swap limit needs a memory limit on cgroup v2")
            }
            out.append(CgroupSetting(file: "memory.swap.max", value: value, field: field + ".swap"))
        }
        if memory.swappiness != nil {
            throw .unsupported(field: field + ".swappiness", reason: "cgroup v2 has no per-cgroup swappiness")
        }
        if memory.disableOOMKiller == true {
            throw .unsupported(field: field + ".disableOOMKiller", reason: "cgroup v2 cannot disable the OOM killer")
        }
        return out
    }

    static func cpuSettings(_ cpu: Resources.CPU) -> [CgroupSetting] {
        var out: [CgroupSetting] = []
        let field = "linux.resources.cpu"
        if let shares = cpu.shares, shares > 0 {
            out.append(CgroupSetting(file: "cpu.weight", value: "\(weight(fromShares: shares))", field: field + ".shares"))
        }
        if cpu.quota != nil || cpu.period != nil {
            let quota = cpu.quota.map { $0 > 0 ? "\($0)" : "max" } ?? "max"
            let period = cpu.period ?? 100_000
            out.append(CgroupSetting(file: "cpu.max", value: "\(quota) \(period)", field: field + (cpu.quota != nil ? ".quota" : ".period")))
        }
        if let burst = cpu.burst {
            out.append(CgroupSetting(file: "cpu.max.burst", value: "\(burst)", field: field + ".burst"))
        }
        if let idle = cpu.idle {
            out.append(CgroupSetting(file: "cpu.idle", value: "\(idle)", field: field + ".idle"))
        }
        if let cpus = cpu.cpus, !cpus.isEmpty {
            out.append(CgroupSetting(file: "cpuset.cpus", value: cpus, field: field + ".cpus"))
        }
        if let mems = cpu.mems, !mems.isEmpty {
            out.append(CgroupSetting(file: "cpuset.mems", value: mems, field: field + ".mems"))
        }
        return out
    }

    /// cpu.shares (2..262144) to cpu.weight (1..10000), as runc and crun convert.
    public static func weight(fromShares shares: UInt64) -> UInt64 {
        let clamped = min(max(shares, 2), 262_144)
        return 1 + ((clamped - 2) * 9999) / 262_142
    }

    /// blkio weight (10..1000) to io.weight (1..10000).
    public static func ioWeight(fromBlkioWeight weight: UInt16) -> UInt64 {
        let clamped = UInt64(min(max(weight, 10), 1000))
        return 1 + ((clamped - 10) * 9999) / 990
    }

    static func ioSettings(_ blockIO: Resources.BlockIO) -> [CgroupSetting] {
        var out: [CgroupSetting] = []
        let field = "linux.resources.blockIO"
        if let weight = blockIO.weight, weight > 0 {
            out.append(CgroupSetting(file: "io.weight", value: "default \(ioWeight(fromBlkioWeight: weight))", field: field + ".weight"))
        }
        for device in blockIO.weightDevice ?? [] {
            if let weight = device.weight {
                out.append(
                    CgroupSetting(
                        file: "io.weight", value: "\(device.major):\(device.minor) \(ioWeight(fromBlkioWeight: weight))",
                        field: field + ".weightDevice"))
            }
        }
        let throttles: [(String, String, [Resources.ThrottleDevice]?)] = [
            ("rbps", "throttleReadBpsDevice", blockIO.throttleReadBpsDevice),
            ("wbps", "throttleWriteBpsDevice", blockIO.throttleWriteBpsDevice),
            ("riops", "throttleReadIOPSDevice", blockIO.throttleReadIOPSDevice),
            ("wiops", "throttleWriteIOPSDevice", blockIO.throttleWriteIOPSDevice),
        ]
        for (key, name, devices) in throttles {
            for device in devices ?? [] {
                out.append(
                    CgroupSetting(
                        file: "io.max", value: "\(device.major):\(device.minor) \(key)=\(device.rate)",
                        field: "\(field).\(name)"))
            }
        }
        return out
    }
}
