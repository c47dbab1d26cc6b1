import Errors
import FoundationEssentials
import Glibc
import Linux
import OSKit
import MicroVM
import OCI

// `vessel compare`: runs the bundle in both modes, interleaved, N times
// each for the timings; then the probe (bundles/probe) with the bundle's
// settings in both modes: what the workload can see and learn, and what
// happens when it tries the kernel interfaces behind container escapes.
// Everything runs under a private --root that is removed afterwards.
public struct Comparer {
    public var bundle: String
    public var probeRootfs: String
    public var runs: Int
    /// Global flags for the VM runs (--vm-accel, --vm-kernel, ...).
    public var vmFlags: [String]
    public var settings: VMSettings

    public init(bundle: String, probeRootfs: String, runs: Int, vmFlags: [String], settings: VMSettings) {
        self.bundle = bundle
        self.probeRootfs = probeRootfs
        self.runs = runs
        self.vmFlags = vmFlags
        self.settings = settings
    }

    public func run(progress: (String) -> Void) throws -> Comparison {
        guard FileIO.isDirectory(bundle), FileIO.exists(bundle + "/config.json") else {
            throw VesselError.setup("compare: \(bundle) is not a bundle (no config.json)")
        }
        guard FileIO.exists(probeRootfs + "/probe") else {
            throw VesselError.setup("compare: no probe at \(probeRootfs)/probe: run bundles/probe/build-rootfs.sh, or give --probe-bundle")
        }
        let bundlePath = try FileIO.realPath(bundle)
        let probeRootfs = try FileIO.realPath(self.probeRootfs)
        let spec = try SpecLoader.decode(FileIO.readData(bundlePath + "/config.json"), path: bundlePath + "/config.json")
        let vessel = try FileIO.realPath("/proc/self/exe")
        var template = Array("/run/vessel-compare-XXXXXX".utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw VesselError.system("mkdtemp /run/vessel-compare-XXXXXX")
        }
        let scratch = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        defer { FileIO.removeTree(scratch) }
        let root = scratch + "/state"

        // Ids unique to this run: the default cgroup path (/vessel/<id>) is shared by every vessel on the host.
        let prefix = "cmp\(getpid())"
        let modes = [("linux", [String]()), ("vm", ["--vm"] + vmFlags)]
        var timings: [String: [TimedRun]] = ["linux": [], "vm": []]
        for index in 0..<runs {
            for (mode, flags) in modes {
                progress("compare: \(mode) run \(index + 1) of \(runs)")
                timings[mode, default: []].append(try TimedRun.run(vessel: vessel, root: root, vm: flags, bundle: bundlePath, id: "\(prefix)-\(mode)-\(index)"))
            }
        }
        let probeBundle = try writeProbeBundle(spec, rootfs: probeRootfs, into: scratch + "/probe")
        let hostKernel = KernelRelease.current()
        var host = HostFacts.read(kernel: hostKernel)
        var probes: [String: (report: ProbeReport, failure: String?)] = [:]
        for (mode, flags) in modes {
            progress("compare: probe in \(mode) mode")
            let run = try TimedRun.run(vessel: vessel, root: root, vm: flags, bundle: probeBundle, id: "\(prefix)-probe-\(mode)")
            let failure =
                run.status == 0
                ? nil
                : "the probe bundle failed in \(mode) mode (status \(run.status)): \(run.stderr.split(separator: "\n").last ?? "")"
            probes[mode] = (ProbeReport(output: run.stdout), failure)
        }
        host.uptimeAfter = HostFacts.uptime()

        let ownCommand = Self.commandLine(of: "self")
        let surface = SyscallSurface.count(spec.linux?.seccomp)
        let shares =
            1 + Set((spec.mounts ?? []).compactMap { $0.type == "bind" || ($0.options ?? []).contains("bind") || ($0.options ?? []).contains("rbind") ? $0.source : nil }).count
        let vmmSurface = "one QEMU process (microvm, -sandbox on) with a virtio-serial device and \(shares) virtio-9p share\(shares == 1 ? "" : "s")"
        let namespaces = Set((spec.linux?.namespaces ?? []).map(\.type))
        func result(_ mode: String, owner: String, syscalls: Int, disk: Int, accelerator: String?) -> Comparison.ModeResult {
            let runs = timings[mode] ?? []
            let probe = probes[mode]?.report ?? ProbeReport()
            let failure = probes[mode]?.failure
            return Comparison.ModeResult(
                mode: mode, stdout: runs.first?.stdout ?? "", stderr: runs.first?.stderr ?? "", exitStatus: runs.first?.status ?? -1,
                kernelOwner: owner, probe: probe, probeFailure: failure, hostProcessesVisible: probe.processes.contains(ownCommand),
                hostSyscalls: syscalls,
                boundary: BoundaryClassifier.results(spec: spec, probe: probe, kernel: owner, failure: failure),
                disclosures: failure == nil ? Disclosure.all(probe, kernel: owner, host: host, namespaces: namespaces) : [],
                firstOutputMilliseconds: runs.map { $0.firstOutputMilliseconds ?? $0.exitMilliseconds },
                exitMilliseconds: runs.map(\.exitMilliseconds), hostMemoryPSSMiB: median(runs.map { Double($0.hostMemoryKiB) / 1024 }),
                diskWrittenBytes: disk, accelerator: accelerator,
                vmBoot: Dictionary(grouping: runs.compactMap(\.vmBoot), by: { $0 }).max { $0.value.count < $1.value.count }?.key)
        }
        let accelerator = try? Accelerator.choose(settings.accel).accelerator.rawValue
        let linux = result("linux", owner: "host", syscalls: surface.allowed, disk: 0, accelerator: nil)
        var vm = result("vm", owner: "guest", syscalls: 0, disk: initramfsBytes(binary: vessel), accelerator: accelerator)
        vm.diskWrittenBytes += templateBytes(vm.vmBoot)
        return Comparison(
            bundle: bundlePath, runs: runs, hostKernel: hostKernel, hostCPUs: Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))),
            knownSyscalls: surface.total, vmmSurface: vmmSurface, host: host, linux: linux, vm: vm,
            rows: Comparison.rows(linux: linux, vm: vm, hostKernel: hostKernel, knownSyscalls: surface.total, vmmSurface: vmmSurface))
    }

    /// The compared bundle's settings with the probe's rootfs and process.
    func writeProbeBundle(_ spec: Spec, rootfs: String, into directory: String) throws -> String {
        var probe = spec
        probe.root = Root(path: rootfs, readonly: true)
        var process = spec.process ?? Process(args: nil)
        process.args = ["/probe"]
        process.terminal = false
        process.cwd = "/"
        probe.process = process
        // Hooks belong to the compared workload, not to the probe.
        probe.hooks = nil
        try FileIO.makeDirectories(directory)
        try FileIO.writeAtomically(directory + "/config.json", try JSONEncoder().encode(probe))
        return directory
    }

    /// The size of the initramfs image VM mode built for this binary.
    func initramfsBytes(binary: String) -> Int {
        var info = stat()
        guard let path = try? Initramfs(settings: settings, binary: binary).cachedPath(), stat(path, &info) == 0 else { return 0 }
        return Int(info.st_size)
    }

    /// The template the VM runs were restored from, on disk (its RAM file
    /// holds what the guest touched while it was made).
    func templateBytes(_ boot: String?) -> Int {
        guard let hash = boot?.split(separator: " ").last, boot?.hasPrefix("template ") == true else { return 0 }
        return Int(TemplateStore(directory: settings.templateDirectory).list().first { $0.hash == hash }?.diskBytes ?? 0)
    }

    /// A process's command line as the probe prints it (NULs as spaces,
    /// at most 100 characters, no trailing spaces).
    static func commandLine(of pid: String) -> String {
        let bytes = (try? FileIO.readBytes("/proc/\(pid)/cmdline")) ?? []
        return String(decoding: bytes.map { $0 == 0 ? UInt8(ascii: " ") : $0 }.prefix(100), as: UTF8.self).trimmingTrailingSpaces
    }
}
