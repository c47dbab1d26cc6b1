import Errors
import ArgumentParser
import Glibc
import MicroVM
import OSKit
import Runtime

// `vessel vm pool fill|list|drain`: VMs restored and warmed up before a
// container asks for one (VMPool; docs/decisions.md, "A pool of warm VMs").
struct VMPoolCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pool",
        abstract: "Ready VMs that VM-mode `create` takes instead of restoring one (off until `fill`; one size per --root).",
        subcommands: [Fill.self, List.self, Drain.self])

    struct Fill: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Keep COUNT VMs of this size ready; each one a container takes is replaced in the background.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Ready VMs to keep (0 turns the pool off).") var count = 1
        @Option(help: "vCPUs (a container's: its CPU quota or cpuset).") var vcpus = 1
        @Option(help: "Guest memory in MiB (a container's: its memory limit + \(GuestSize.overheadMiB)).") var memory = GuestSize.defaultMemoryMiB
        @Flag(help: .hidden) var refill = false

        func run() throws {
            try perform(global) {
                if Privileges.isRootless { throw VesselError.unsupported("vm pool: VM mode needs root") }
                let pool = VMPool(root: try global.settings.store().root)
                var config: VMPool.Config?
                if refill {
                    // Started by a create that took a VM: in the background,
                    // at the lowest priority, with what `fill` was given.
                    if fork() != 0 { Glibc.exit(0) }
                    setsid()
                    setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 19)
                } else {
                    let hostCPUs = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
                    guard count >= 0 else { throw VesselError.invalidArgument("--count must be 0 or more") }
                    guard (1...hostCPUs).contains(vcpus) else { throw VesselError.invalidArgument("--vcpus must be 1 to \(hostCPUs)") }
                    guard memory >= 64 else { throw VesselError.invalidArgument("--memory must be at least 64 (MiB)") }
                    guard FileIO.exists(global.vmSettings.kernel) else {
                        throw VesselError.unusable("no guest kernel at \(global.vmSettings.kernel): run scripts/fetch-vm-kernel.sh, or give --vm-kernel")
                    }
                    config = VMPool.Config(count: count, size: GuestSize(vcpus: vcpus, memoryMiB: memory), settings: global.vmSettings)
                }
                let started = try pool.fill(config) { if !refill { print($0) } }
                if let config, started.isEmpty { print("vm pool: \(config.count) VM(s) ready already") }
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the pool's VMs.")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            try perform(global) {
                let pool = VMPool(root: try global.settings.store().root)
                if let config = pool.config() {
                    print("pool of \(config.count): \(config.size.vcpus) vCPU, \(config.size.memoryMiB) MiB (\(pool.directory))")
                } else {
                    print("no pool (vessel vm pool fill --count N)")
                }
                // Number, status, then (once ready) QEMU's pid and how it came up.
                for number in pool.numbers() {
                    let details = pool.entry(number).map { "\t\($0.qemuPID)\t\($0.boot)" } ?? ""
                    print("\(number)\t\(pool.status(number).rawValue)" + details)
                }
            }
        }
    }

    struct Drain: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "End the VMs no container has taken, and turn the pool off (taken ones end with their containers).")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            try perform(global) {
                try VMPool(root: try global.settings.store().root).drain()
            }
        }
    }
}
