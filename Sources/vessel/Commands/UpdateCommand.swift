import Errors
import ArgumentParser
import FoundationEssentials
import Glibc
import Linux
import OSKit
import OCI
import Runtime

struct UpdateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "update", abstract: "Change a container's cgroup limits and device rules.")
    @OptionGroup var global: GlobalOptions
    @Option(name: [.short, .customLong("resources")], help: "linux.resources as JSON (limits; devices replaces the device rules), from a file or - for stdin.") var resources:
        String?
    // Values as runc takes them: memory sizes with units (100m, 1g) or -1,
    // and negative numbers, which the parser must not take for flags.
    @Option(parsing: .unconditional, help: "Memory limit (bytes, or with a unit: 100m, 1g).") var memory: String?
    @Option(name: .customLong("memory-swap"), parsing: .unconditional, help: "Memory plus swap limit; -1 for unlimited swap.") var memorySwap: String?
    @Option(name: .customLong("memory-reservation"), parsing: .unconditional, help: "Memory soft limit.") var memoryReservation: String?
    @Option(name: .customLong("kernel-memory"), parsing: .unconditional, help: .hidden) var kernelMemory: String?
    @Option(name: .customLong("kernel-memory-tcp"), parsing: .unconditional, help: .hidden) var kernelMemoryTCP: String?
    @Option(name: .customLong("cpu-quota"), parsing: .unconditional, help: "CPU CFS quota in microseconds.") var cpuQuota: Int64?
    @Option(name: .customLong("cpu-period"), help: "CPU CFS period in microseconds.") var cpuPeriod: UInt64?
    @Option(name: .customLong("cpu-share"), help: "CPU shares (relative weight).") var cpuShare: UInt64?
    @Option(name: .customLong("cpu-rt-period"), help: "CPU realtime period in microseconds (cgroup v1 only: ignored, as runc does).") var cpuRtPeriod: UInt64?
    @Option(name: .customLong("cpu-rt-runtime"), parsing: .unconditional, help: "CPU realtime runtime in microseconds (cgroup v1 only: ignored).") var cpuRtRuntime: Int64?
    @Option(name: .customLong("cpuset-cpus"), help: "CPUs to use (0-3, 0,1).") var cpusetCpus: String?
    @Option(name: .customLong("cpuset-mems"), help: "Memory nodes to use.") var cpusetMems: String?
    @Option(name: .customLong("blkio-weight"), help: "Block I/O weight, 10 to 1000.") var blkioWeight: UInt?
    @Option(name: .customLong("pids-limit"), parsing: .unconditional, help: "Maximum number of processes; -1 for no limit.") var pidsLimit: Int64?
    @Option(name: .customLong("l3-cache-schema"), help: "Intel RDT/CAT L3 cache schema (not supported: refused).") var l3CacheSchema: String?
    @Option(name: .customLong("mem-bw-schema"), help: "Intel RDT/MBA memory bandwidth schema (not supported: refused).") var memBwSchema: String?
    @Argument(help: "Container id.") var id: String

    func run() throws {
        try perform(global) {
            // As runc: with --resources, the other flags are ignored.
            let wanted = try resourcesFromFile() ?? resourcesFromFlags()
            try lifecycle(global).update(containerID(id), resources: wanted)
        }
    }

    func resourcesFromFlags() throws -> Resources {
        var wanted = Resources()
        if memory != nil || memorySwap != nil || memoryReservation != nil {
            var memorySettings = Resources.Memory()
            memorySettings.limit = try memory.map { try MemorySize.parse($0, flag: "memory") }
            memorySettings.swap = try memorySwap.map { try MemorySize.parse($0, flag: "memory-swap") }
            memorySettings.reservation = try memoryReservation.map { try MemorySize.parse($0, flag: "memory-reservation") }
            wanted.memory = memorySettings
        }
        if kernelMemory != nil || kernelMemoryTCP != nil {
            _ = try kernelMemory.map { try MemorySize.parse($0, flag: "kernel-memory") }
            _ = try kernelMemoryTCP.map { try MemorySize.parse($0, flag: "kernel-memory-tcp") }
            Log.logger.warning("Kernel memory settings are ignored and will be removed")
        }
        if cpuQuota != nil || cpuPeriod != nil || cpuShare != nil || cpusetCpus != nil || cpusetMems != nil
            || cpuRtPeriod != nil || cpuRtRuntime != nil
        {
            var cpu = Resources.CPU(shares: cpuShare, quota: cpuQuota, period: cpuPeriod, cpus: cpusetCpus, mems: cpusetMems)
            cpu.realtimePeriod = cpuRtPeriod
            cpu.realtimeRuntime = cpuRtRuntime
            wanted.cpu = cpu
        }
        // runc truncates the flag to 16 bits; 0 is "not set".
        if let blkioWeight, UInt16(truncatingIfNeeded: blkioWeight) != 0 {
            wanted.blockIO = Resources.BlockIO(weight: UInt16(truncatingIfNeeded: blkioWeight))
        }
        if let pidsLimit { wanted.pids = Resources.Pids(limit: pidsLimit) }
        if l3CacheSchema != nil || memBwSchema != nil {
            throw VesselError.unsupported(field: "linux.intelRdt", reason: "Intel RDT (resctrl) is not supported by vessel")
        }
        return wanted
    }

    func resourcesFromFile() throws -> Resources? {
        guard let resources else { return nil }
        let data: Data
        if resources == "-" {
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = read(0, &buffer, buffer.count)
                if count <= 0 { break }
                bytes += buffer[0..<count]
            }
            data = Data(bytes)
        } else {
            do { data = try FileIO.readData(resources) } catch {
                throw VesselError.invalidArgument("--resources: cannot read \(resources): \(error.reason)")
            }
        }
        do {
            return try JSONDecoder().decode(Resources.self, from: data)
        } catch let error as DecodingError {
            let described = "\(SpecLoader.describe(error, path: resources))".replacingPrefix("config.json: ", with: "")
            throw VesselError.invalidArgument("--resources \(resources): \(described)")
        }
    }
}
