import Errors
import CVessel
import FoundationEssentials
import Glibc
import Linux
import OSKit
import MicroVM
import OCI

// `create` in VM mode: checks the kernel, QEMU and accelerator, rewrites the
// bundle for the guest, makes sure the initramfs is cached, and starts the
// VM supervisor, which boots the guest and has its agent create the
// container. Any failure leaves nothing: no state, no QEMU, no supervisor.
public struct VMCreator {
    public static let annotation = "org.vessel.isolation"

    let store: StateStore
    let settings: VMSettings
    let info: (String) -> Void
    let warn: (String) -> Void

    public init(store: StateStore, settings: VMSettings, info: @escaping (String) -> Void, warn: @escaping (String) -> Void) {
        self.store = store
        self.settings = settings
        self.info = info
        self.warn = warn
    }

    /// Whether the flag or config.json's annotation asks for a VM.
    public static func wanted(_ options: CreateOptions, spec: Spec) -> Bool {
        options.vm || spec.annotations?[annotation] == "vm"
    }

    /// Returns the supervisor's pid: the container's pid on the host. The
    /// bundle is ContainerCreator.loadBundle(options.bundle)'s.
    public func create(id: ContainerID, options: CreateOptions, bundle: ContainerCreator.Bundle) throws -> pid_t {
        let spec = bundle.spec
        // The initramfs cache and QEMU's set-up are root's (/var/lib/vessel).
        if Privileges.isRootless {
            throw VesselError.unsupported("vm: rootless (uid \(geteuid())): VM mode needs root; run the bundle without --vm")
        }
        if options.preserveFDs > 0 {
            throw VesselError.vmConfig("--preserve-fds: open files cannot be passed into a VM")
        }
        // As in ContainerCreator: a foreground `run` hands over its session's socket.
        try ConsoleSocketRule.check(detached: true, terminal: spec.process?.terminal == true, consoleSocket: options.consoleSocket)
        // A pod's later container runs in its sandbox's VM.
        if let sandbox = try VMPod.sandbox(joinedBy: spec, id: id, store: store) {
            return try VMPodMember(store: store, warn: warn).create(id: id, options: options, bundle: bundle, host: .sandbox(sandbox))
        }
        guard FileIO.exists(settings.kernel) else {
            throw VesselError.unusable("no guest kernel at \(settings.kernel): run scripts/fetch-vm-kernel.sh, or give --vm-kernel")
        }
        let qemu = try VMSupervisor.resolve(settings.qemu)
        let decision = try Accelerator.choose(settings.accel)
        info("vm: accelerator \(decision.accelerator.rawValue): \(decision.reason)")
        let podSandbox = VMPod.isSandbox(spec)
        let guest = try GuestSpec(
            spec, rootfs: bundle.rootfs, isDirectory: FileIO.isDirectory,
            isEngineNamespace: VMEngineNetwork.isEngineNamespace,
            podDirectory: podSandbox ? PodShare.hostDirectory(ofSandbox: store.directory(id)) : nil)
        guest.warnings.forEach { warn("vm: config.json: " + $0) }
        let engineNetwork = try VMEngineNetwork.open(guest, spec: spec)
        let newNetwork = spec.linux?.namespaces?.contains(where: { $0.type == .network && $0.path == nil }) == true
        // Only where something can be set up between create and start.
        let lateNetwork = options.startsAtOnce ? nil : VMEngineNetwork.late(newNamespace: newNetwork, guest: guest)
        defer { if let engineNetwork { close(engineNetwork.namespaceFD) } }
        engineNetwork?.warnings.forEach { warn("vm: " + $0) }
        let hostCPUs = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        let size = try podSandbox ? GuestSize.forPod(spec, hostCPUs: hostCPUs) : GuestSize.from(spec.linux?.resources, hostCPUs: hostCPUs)
        let binary = try FileIO.realPath("/proc/self/exe")
        // A VM of the pool, restored and warmed up already, if one fits.
        if !podSandbox, engineNetwork == nil, lateNetwork == nil, !guest.network,
            let claimed = try claimFromPool(size: size, accelerator: decision.accelerator, binary: binary, annotations: spec.annotations)
        {
            info("vm: pool VM \(claimed.number) (\(claimed.entry.boot))")
            return try VMPodMember(store: store, warn: warn).create(
                id: id, options: options, bundle: bundle, host: .pool(claimed), newNetwork: newNetwork)
        }

        let directory = try store.claim(id)
        var cleanup = Cleanup(store: store, id: id)
        defer { cleanup.run() }
        if podSandbox { _ = try PodShareMounts.prepare(sandboxDirectory: directory) }
        var command = try Self.qemuCommand(
            settings: settings, qemu: qemu, accelerator: decision.accelerator, size: size,
            directory: directory, shares: guest.shares, binary: binary)
        command.network = guest.network
        if podSandbox { command.execSlots = GuestPorts.podExecSlots }
        // The engine's interfaces (or the one a new namespace waits for)
        // are devices with placeholder MACs (GuestNIC), part of the VM's
        // shape: a template made with as many fits.
        command.taps = GuestNIC.placeholders(count: lateNetwork != nil ? 1 : engineNetwork?.network.interfaces.count ?? 0)
        let templates = VMTemplates.decide(for: &command, annotations: spec.annotations, settings: settings, binary: binary)
        var template: TemplatePlan?
        if case let .restore(plan) = templates { template = plan }
        try SupervisorPlan(
            qemu: command, spec: guest.spec, shares: guest.shares,
            bootTimeoutSeconds: settings.bootTimeoutSeconds,
            consoleSocket: spec.process?.terminal == true ? options.consoleSocket : nil,
            network: guest.network, engineNetwork: engineNetwork?.network,
            lateNetwork: lateNetwork, template: template
        ).save(in: directory)
        var record = Self.newRecord(id, bundle: bundle)
        try store.save(record)

        // The supervisor reports .started(detail: <guest kernel>) or why not.
        var request = SpawnRequest(
            path: binary, arguments: ["vessel", "vm-supervise", directory],
            environment: ["PATH=/usr/bin:/bin:/usr/sbin:/sbin"])
        request.newSession = true
        // In the engine's namespace, as a linux-mode init would be: the taps
        // are made there, and /proc/<pid>/ns/net is the container's.
        if let engineNetwork { request.joinNamespaces = [(engineNetwork.namespaceFD, NamespaceType.network.cloneFlag)] }
        // A config asking for a new network namespace gets one for the
        // supervisor too: engines that set up /proc/<pid>/ns/net after
        // create (buildah) must find the container's, never the host's.
        if newNetwork {
            request.cloneFlags = UInt64(NamespaceType.network.cloneFlag)
        }
        // With a template: its build, the restore and a cold boot after a
        // failed restore each have the boot timeout.
        DebugTrace.step(
            "create \(id.value): VM supervisor for \(size.vcpus) vCPU, \(size.memoryMiB) MiB, \(guest.shares.count) share(s), "
                + (template == nil ? "cold boot" : "restore from a template"))
        let (pid, report) = try StartReport.spawn(request, timeoutSeconds: settings.bootTimeoutSeconds * (template == nil ? 1 : 3) + 15)
        cleanup.pid = pid
        record.pid = pid
        record.pidStartTime = ProcessStat(pid: pid)?.startTime ?? 0
        guard case let .started(guestKernel)? = report else {
            throw VesselError.guest(
                StartReport.failure(report, otherwise: "the VM supervisor ended without a report")
                    .replacingPrefix("vm: ", with: ""))
        }
        let qemuPID = (try? FileIO.read(directory + "/qemu.pid")).flatMap { Int32($0) } ?? 0
        DebugTrace.step("create \(id.value): supervisor pid \(pid), QEMU pid \(qemuPID), guest kernel \(guestKernel)")
        let boot = BootRecord.load(from: directory)
        switch templates {
        case let .coldBoot(reason): info("vm: cold boot: \(reason)")
        case .restore: info(boot?.logLine ?? "vm: the supervisor did not say how the guest came up")
        }
        record.vm = VMInfo(
            qemuPID: qemuPID, accelerator: decision.accelerator.rawValue,
            guestKernel: guestKernel, boot: boot?.mode ?? "cold")
        record.vm?.podSandbox = podSandbox ? true : nil
        try store.save(record)
        try Self.finish(record, spec: spec, options: options)
        cleanup.succeeded()
        return pid
    }

    /// A ready pool VM of this size and template, when the pool has one.
    private func claimFromPool(size: GuestSize, accelerator: Accelerator, binary: String, annotations: [String: String]?) throws -> VMPool.Claimed? {
        let pool = VMPool(root: store.root)
        guard pool.config().map({ $0.count > 0 }) == true,
            let (_, template) = try VMPool.command(
                settings: settings, accelerator: accelerator, size: size, directory: "/", binary: binary, annotations: annotations)
        else { return nil }
        guard let claimed = pool.claim(key: template.key.text) else { return nil }
        pool.startRefill()
        return claimed
    }

    /// A VM-mode container's record before it has a pid: no host cgroup.
    static func newRecord(_ id: ContainerID, bundle: ContainerCreator.Bundle) -> ContainerRecord {
        let spec = bundle.spec
        var record = ContainerRecord(
            id: id.value, bundle: bundle.path, rootfs: bundle.rootfs, pid: 0, pidStartTime: 0,
            created: Timestamp.now(), owner: "", annotations: spec.annotations,
            cgroupMountPoint: nil, cgroupPath: nil, hooks: spec.hooks, ociVersion: spec.ociVersion)
        record.process = spec.process
        record.seccomp = spec.linux?.seccomp
        return record
    }

    /// The end of a VM-mode create, once the container waits in the guest:
    /// prestart and createRuntime hooks on the host, then the pid file.
    static func finish(_ record: ContainerRecord, spec: Spec, options: CreateOptions) throws {
        let state = try record.stateJSON(status: .created)
        try HookRunner.run(spec.hooks?.prestart ?? [], kind: "prestart", state: state, directory: record.bundle)
        try HookRunner.run(spec.hooks?.createRuntime ?? [], kind: "createRuntime", state: state, directory: record.bundle)
        if let pidFile = options.pidFile {
            try PidFile.write(pidFile, pid: record.pid)
        }
    }

    /// QEMU's command for a guest of `size` with `shares` in `directory`,
    /// as `create` and `vessel vm template build` make it.
    public static func qemuCommand(
        settings: VMSettings, qemu: String, accelerator: Accelerator, size: GuestSize,
        directory: String, shares: [QemuCommand.Share], binary: String
    ) throws -> QemuCommand {
        let initramfs = try Initramfs(settings: settings, binary: binary).ensure()
        let tscKHz = accelerator == .tcg ? QemuCommand.hostTSCKHz(cpuinfo: (try? FileIO.read("/proc/cpuinfo")) ?? "") : nil
        return QemuCommand(
            qemu: qemu, kernel: settings.kernel, initramfs: initramfs, accelerator: accelerator, size: size,
            directory: directory, shares: shares, tscKHz: tscKHz)
    }
}
