import Errors
import FoundationEssentials
import Glibc
import Linux
import MicroVM
import OCI
import OSKit

// `create` of a VM-mode container that joins a pod sandbox's VM instead of
// booting one (PodShare): its root filesystem and bind sources are bound
// into the pod directory, and its host relay (`vessel vm-member <dir>`,
// whose pid is the container's) has the sandbox's supervisor run it in the
// guest. Any failure leaves nothing: no state, no bind, no relay, nothing
// in the guest.
struct VMPodMember {
    let store: StateStore
    let warn: (String) -> Void

    /// What the relay reads from <state dir>/member.json.
    struct Plan: Codable {
        var supervisorDirectory: String
        var join: PodJoin
        var consoleSocket: String?

        static func path(in directory: String) -> String { directory + "/member.json" }
    }

    func create(id: ContainerID, options: CreateOptions, bundle: ContainerCreator.Bundle, sandbox: ContainerRecord) throws -> pid_t {
        let spec = bundle.spec
        guard let vm = sandbox.vm else { throw VesselError.vmConfig("container \(sandbox.id) is not a VM-mode pod sandbox") }
        let member = PodMemberSpec(spec, id: id.value, rootfs: bundle.rootfs, isDirectory: FileIO.isDirectory) {
            VMPod.isShared($0, withSandbox: sandbox.pid)
        }
        member.warnings.forEach { warn("vm: config.json: " + $0) }
        let sandboxDirectory = store.root + "/" + sandbox.id
        let directory = try store.claim(id)
        var cleanup = Cleanup(store: store, id: id)
        var bound = false
        defer {
            cleanup.run()
            if bound { PodShareMounts.release(member: id.value, sandboxDirectory: sandboxDirectory) }
        }
        try PodShareMounts.bind(member.binds, member: id.value, sandboxDirectory: sandboxDirectory)
        bound = true
        let join = PodJoin(id: id.value, spec: member.spec, joins: member.joins, slot: 0)
        let plan = Plan(
            supervisorDirectory: sandboxDirectory, join: join,
            consoleSocket: spec.process?.terminal == true ? options.consoleSocket : nil)
        try FileIO.writeAtomically(Plan.path(in: directory), try JSONEncoder().encode(plan))
        var record = VMCreator.newRecord(id, bundle: bundle)
        record.vm = VMInfo(qemuPID: vm.qemuPID, accelerator: vm.accelerator, guestKernel: vm.guestKernel, boot: "pod \(sandbox.id)")
        record.vm?.sandbox = sandbox.id
        try store.save(record)

        DebugTrace.step("create \(id.value): joins the VM of pod sandbox \(sandbox.id), sharing \(member.joins.map(\.rawValue))")
        var request = SpawnRequest(
            path: try FileIO.realPath("/proc/self/exe"), arguments: ["vessel", "vm-member", directory],
            environment: ["PATH=/usr/bin:/bin:/usr/sbin:/sbin"])
        request.newSession = true
        let (pid, report) = try StartReport.spawn(request, timeoutSeconds: 120)
        cleanup.pid = pid
        record.pid = pid
        record.pidStartTime = ProcessStat(pid: pid)?.startTime ?? 0
        guard case .started? = report else {
            throw VesselError.guest(
                StartReport.failure(report, otherwise: "the container's relay ended without a report").replacingPrefix("vm: ", with: ""))
        }
        try store.save(record)
        try VMCreator.finish(record, spec: spec, options: options)
        cleanup.succeeded()
        bound = false
        return pid
    }
}
