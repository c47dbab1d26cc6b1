import Errors
import FoundationEssentials
import Glibc
import Linux
import MicroVM
import OCI
import OSKit

// `create` of a VM-mode container that runs in a VM already up instead of
// booting one: a pod sandbox's VM (PodShare), or a pool VM (VMPool). Its
// root filesystem and bind sources are bound into the VM's pod directory,
// and its host relay (`vessel vm-member <dir>`, whose pid is the
// container's) has that VM's supervisor run it in the guest. Any failure
// leaves nothing: no state, no bind, no relay, nothing in the guest (and a
// pool VM it took ends).
struct VMPodMember {
    let store: StateStore
    let warn: (String) -> Void

    /// The VM the container joins.
    enum Host {
        case sandbox(ContainerRecord)
        case pool(VMPool.Claimed)
    }

    /// What the relay reads from <state dir>/member.json.
    struct Plan: Codable {
        var supervisorDirectory: String
        var join: PodJoin
        var consoleSocket: String?

        static func path(in directory: String) -> String { directory + "/member.json" }
    }

    /// `newNetwork`: config.json asks for a new network namespace, which
    /// the relay gets, so /proc/<pid>/ns/net is never the host's.
    func create(id: ContainerID, options: CreateOptions, bundle: ContainerCreator.Bundle, host: Host, newNetwork: Bool = false) throws -> pid_t {
        let spec = bundle.spec
        let vm = try host.vmInfo()
        let member = PodMemberSpec(spec, id: id.value, rootfs: bundle.rootfs, isDirectory: FileIO.isDirectory) { namespace in
            guard case let .sandbox(sandbox) = host else { return false }
            return VMPod.isShared(namespace, withSandbox: sandbox.pid)
        }
        member.warnings.forEach { warn("vm: config.json: " + $0) }
        let hostDirectory = host.directory(in: store)
        var pendingPool: VMPool.Claimed?
        if case let .pool(claimed) = host { pendingPool = claimed }
        defer { if let pendingPool { VMPool(root: store.root).discard(pendingPool) } }
        let directory = try store.claim(id)
        var cleanup = Cleanup(store: store, id: id)
        var bound = false
        defer {
            cleanup.run()
            if bound { PodShareMounts.release(member: id.value, sandboxDirectory: hostDirectory) }
        }
        try PodShareMounts.bind(member.binds, member: id.value, sandboxDirectory: hostDirectory)
        bound = true
        let join = PodJoin(id: id.value, spec: member.spec, joins: member.joins, slot: 0)
        let plan = Plan(
            supervisorDirectory: hostDirectory, join: join,
            consoleSocket: spec.process?.terminal == true ? options.consoleSocket : nil)
        try FileIO.writeAtomically(Plan.path(in: directory), try JSONEncoder().encode(plan))
        var record = VMCreator.newRecord(id, bundle: bundle)
        record.vm = vm
        try store.save(record)

        DebugTrace.step("create \(id.value): joins \(host.description), sharing \(member.joins.map(\.rawValue))")
        var request = SpawnRequest(
            path: try FileIO.realPath("/proc/self/exe"), arguments: ["vessel", "vm-member", directory],
            environment: ["PATH=/usr/bin:/bin:/usr/sbin:/sbin"])
        request.newSession = true
        if newNetwork { request.cloneFlags = UInt64(NamespaceType.network.cloneFlag) }
        let (pid, report) = try StartReport.spawn(request, timeoutSeconds: 120)
        cleanup.pid = pid
        record.pid = pid
        record.pidStartTime = ProcessStat(pid: pid)?.startTime ?? 0
        guard case .started? = report else {
            throw VesselError.guest(
                StartReport.failure(report, otherwise: "the container's relay ended without a report").replacingPrefix("vm: ", with: ""))
        }
        // The VM has taken the container: from here it ends with it.
        pendingPool = nil
        try store.save(record)
        try VMCreator.finish(record, spec: spec, options: options)
        cleanup.succeeded()
        bound = false
        return pid
    }
}

extension VMPodMember.Host: CustomStringConvertible {
    /// The directory of the supervisor that serves the VM.
    func directory(in store: StateStore) -> String {
        switch self {
        case let .sandbox(record): return store.root + "/" + record.id
        case let .pool(claimed): return claimed.directory
        }
    }

    /// The member's record of the VM it runs in.
    func vmInfo() throws -> VMInfo {
        switch self {
        case let .sandbox(record):
            guard let vm = record.vm else { throw VesselError.vmConfig("container \(record.id) is not a VM-mode pod sandbox") }
            var info = VMInfo(qemuPID: vm.qemuPID, accelerator: vm.accelerator, guestKernel: vm.guestKernel, boot: "pod \(record.id)")
            info.sandbox = record.id
            return info
        case let .pool(claimed):
            let entry = claimed.entry
            var info = VMInfo(
                qemuPID: entry.qemuPID, accelerator: entry.accelerator, guestKernel: entry.guestKernel,
                boot: "pool \(claimed.number) (\(entry.boot))")
            info.poolEntry = claimed.number
            return info
        }
    }

    var description: String {
        switch self {
        case let .sandbox(record): return "the VM of pod sandbox \(record.id)"
        case let .pool(claimed): return "pool VM \(claimed.number)"
        }
    }
}
