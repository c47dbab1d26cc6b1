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
    @Option(name: [.short, .customLong("resources")], help: "linux.resources as JSON (limits; devices replaces the device rules), from a file or - for stdin.") var resources: String?
    @Option(help: "Memory limit in bytes.") var memory: Int64?
    @Option(name: .customLong("memory-swap"), help: "Memory plus swap limit in bytes.") var memorySwap: Int64?
    @Option(name: .customLong("memory-reservation"), help: "Memory soft limit in bytes.") var memoryReservation: Int64?
    @Option(name: .customLong("cpu-quota"), help: "CPU CFS quota in microseconds.") var cpuQuota: Int64?
    @Option(name: .customLong("cpu-period"), help: "CPU CFS period in microseconds.") var cpuPeriod: UInt64?
    @Option(name: .customLong("cpu-share"), help: "CPU shares (relative weight).") var cpuShare: UInt64?
    @Option(name: .customLong("cpuset-cpus"), help: "CPUs to use (0-3, 0,1).") var cpusetCpus: String?
    @Option(name: .customLong("cpuset-mems"), help: "Memory nodes to use.") var cpusetMems: String?
    @Option(name: .customLong("pids-limit"), help: "Maximum number of processes.") var pidsLimit: Int64?
    @Argument(help: "Container id.") var id: String

    func run() throws {
        try perform(global) {
            var wanted = try resourcesFromFile() ?? Resources()
            if memory != nil || memorySwap != nil || memoryReservation != nil {
                var memorySettings = wanted.memory ?? Resources.Memory()
                memorySettings.limit = memory ?? memorySettings.limit
                memorySettings.swap = memorySwap ?? memorySettings.swap
                memorySettings.reservation = memoryReservation ?? memorySettings.reservation
                wanted.memory = memorySettings
            }
            if cpuQuota != nil || cpuPeriod != nil || cpuShare != nil || cpusetCpus != nil || cpusetMems != nil {
                var cpu = wanted.cpu ?? Resources.CPU()
                cpu.quota = cpuQuota ?? cpu.quota
                cpu.period = cpuPeriod ?? cpu.period
                cpu.shares = cpuShare ?? cpu.shares
                cpu.cpus = cpusetCpus ?? cpu.cpus
                cpu.mems = cpusetMems ?? cpu.mems
                wanted.cpu = cpu
            }
            if let pidsLimit { wanted.pids = Resources.Pids(limit: pidsLimit) }
            try lifecycle(global).update(containerID(id), resources: wanted)
        }
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
