import Errors
import FoundationEssentials
import Glibc
import Linux
import OSKit
import MicroVM
import OCI

// The VM backend: the container runs inside a microVM whose host side is
// `vessel vm-supervise` (record.pid). Every operation is a request to the
// supervisor, which passes it to the guest agent.
struct VMBackend: ContainerBackend {
    let store: StateStore

    func send(_ command: ContainerCommand, for record: ContainerRecord) throws -> Answer {
        try SupervisorClient.send(command, to: target(record))
    }

    /// A pod's further container is served by its sandbox's supervisor, a
    /// pool VM's container by the pool VM's.
    func target(_ record: ContainerRecord) -> VMTarget {
        VMTarget(supervisorDirectory: supervisorDirectory(record), id: record.id)
    }

    private func supervisorDirectory(_ record: ContainerRecord) -> String {
        if let entry = record.vm?.poolEntry { return VMPool(root: store.root).entryDirectory(entry) }
        return store.root + "/" + (record.vm?.sandboxID?.value ?? record.id)
    }

    /// The supervisor keeps the guest container's status in a file.
    func liveStatus(of record: ContainerRecord) -> ContainerStatus {
        let text = (try? FileIO.read(SupervisorFiles.status(in: store.root + "/" + record.id))) ?? ""
        return ContainerStatus(rawValue: text) ?? .creating
    }

    /// The pid is the VM supervisor's; say which VMM and kernel run it.
    func stateAnnotations(of record: ContainerRecord) -> [String: String] {
        guard let vm = record.vm else { return [:] }
        var annotations = [
            "org.vessel.vm.vmm-pid": "\(vm.qemuPID)", "org.vessel.vm.accelerator": vm.accelerator,
            "org.vessel.vm.guest-kernel": vm.guestKernel,
        ]
        annotations["org.vessel.vm.boot"] = vm.boot
        annotations["org.vessel.vm.pod-sandbox"] = vm.sandbox
        return annotations
    }

    func start(_ record: ContainerRecord) throws {
        _ = try send(.start, for: record)
    }

    func kill(_ record: ContainerRecord, signal: Int32, all: Bool, status: ContainerStatus) throws {
        guard status.isLive else { throw VesselError.notRunning(id: record.id, status: status.rawValue) }
        do {
            _ = try send(.kill(signal: signal, all: all), for: record)
        } catch {
            // The container exited since its status was read: as for a
            // stopped one, --all succeeds (engines record the exit after
            // it) and a plain kill is runc's "container not running".
            let now = liveStatus(of: record)
            guard now == .stopped || !ProcessStat.isAlive(pid: record.pid, startTime: record.pidStartTime) else { throw error }
            if all { return }
            throw VesselError.notRunning(id: record.id, status: ContainerStatus.stopped.rawValue)
        }
    }

    func setPaused(_ record: ContainerRecord, _ paused: Bool) throws {
        _ = try send(paused ? .pause : .resume, for: record)
    }

    /// The guest's pids: the container's processes live in the VM.
    func processes(_ record: ContainerRecord, status: ContainerStatus) throws -> [Int32] {
        guard status != .stopped else { return [] }
        return try send(.ps, for: record).pids ?? []
    }

    func stats(_ record: ContainerRecord, status: ContainerStatus) throws -> StatsEvent {
        throw VesselError.unsupported("vm: events: container \(record.id) runs in a VM; its cgroup is in the guest, whose stats vessel does not collect yet")
    }

    /// The limits apply to the container's cgroup in the guest, which has
    /// every controller; they cannot grow the VM past the size it booted with.
    func update(_ record: ContainerRecord, resources: Resources, status: ContainerStatus) throws {
        guard status.isLive else { throw VesselError.wrongState(id: record.id, operation: "update", status: status.rawValue) }
        _ = try send(.update(resources), for: record)
    }

    /// Starts the relay that runs the process in the guest; returns its pid
    /// once the process runs there.
    func exec(_ record: ContainerRecord, process: Process, seccomp: Seccomp?, options: ExecOptions) throws -> pid_t {
        let id = try ContainerID(record.id)
        if options.preserveFDs > 0 { throw VesselError.unsupported("vm: --preserve-fds: open files cannot be passed into a VM") }
        if !options.cgroups.isEmpty { throw VesselError.unsupported("vm: --cgroup: the process runs in the guest's cgroups, not the host's") }
        if options.execWaitFifo != nil { throw VesselError.unsupported("vm: --exec-wait-fifo: a host fifo cannot be opened from inside a VM") }
        let processFile = store.directory(id) + "/exec-\(getpid()).json"
        try FileIO.writeAtomically(processFile, try JSONEncoder().encode(process))
        let executable = try FileIO.realPath("/proc/self/exe")
        let arguments = ["vessel", "vm-exec", target(record).supervisorDirectory, id.value, processFile] + (options.consoleSocket.map { [$0] } ?? [])
        let request = SpawnRequest(path: executable, arguments: arguments, environment: [])
        let pid: pid_t, report: StartReport?
        do {
            (pid, report) = try StartReport.spawn(request, timeoutSeconds: 60)
        } catch {
            unlink(processFile)
            throw error
        }
        guard case .started? = report else {
            Glibc.kill(pid, SIGKILL)
            _ = Spawner.wait(pid)
            unlink(processFile)
            throw VesselError.initFailed(StartReport.failure(report, otherwise: "vm: exec relay ended without a report"))
        }
        return pid
    }

    /// The live pid must be this container's VM supervisor (a pod
    /// member's: its relay).
    func identityProblem(_ record: ContainerRecord) -> String? {
        let directory = store.root + "/" + record.id
        let arguments = ((try? FileIO.readData("/proc/\(record.pid)/cmdline")) ?? Data())
            .split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        let role = record.vm?.isMember == true ? "vm-member" : "vm-supervise"
        let isOurs = arguments.count > 2 && arguments[1] == role && arguments[2] == directory
        return isOurs ? nil : "pid \(record.pid) in \(directory)/state.json is not this container's \(role == "vm-member" ? "VM relay" : "VM supervisor")"
    }

    /// The supervisor and QEMU, until their pids are gone (reaped by
    /// whoever inherited them); then what the supervisor had no time to
    /// undo in the engine's network namespace (it was killed). A pod
    /// member: its relay, then its binds in the sandbox's pod directory (a
    /// sandbox's own pod directory goes with its state: StateStore.remove).
    func awaitTeardown(_ record: ContainerRecord) {
        defer {
            MirrorRecord.undo(in: store.root + "/" + record.id)
            if let sandbox = record.vm?.sandboxID { PodShareMounts.release(member: record.id, sandboxDirectory: store.directory(sandbox)) }
            if let entry = record.vm?.poolEntry {
                let entryDirectory = VMPool(root: store.root).entryDirectory(entry)
                PodShareMounts.release(member: record.id, sandboxDirectory: entryDirectory)
                // Its supervisor removes the entry once QEMU is gone.
                for _ in 0..<2000 {
                    guard FileIO.exists(entryDirectory) else { break }
                    usleep(1000)
                }
            }
        }
        guard let vm = record.vm else { return }
        // A pool VM ends with its container: its QEMU is waited for too.
        for pid in [record.pid, vm.sandbox == nil ? vm.qemuPID : 0] where pid > 0 {
            for _ in 0..<2000 {
                guard Glibc.kill(pid, 0) == 0, ProcessStat(pid: pid).map({ $0.startTime >= record.pidStartTime }) ?? false else { break }
                usleep(1000)
            }
        }
    }
}
