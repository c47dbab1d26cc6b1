import Errors
import Glibc
import OSKit

// The supervisor of a pool VM (PoolPlan): no container of its own. It
// mounts the pod share in the guest, runs the warm-up container once in an
// exec slot of its own (its output goes to this process's stdio, which is
// /dev/null), and is then ready for the one container that claims it. That
// container joins as a pod's further container joins its sandbox's VM
// (VMSupervisor+Pod); when its process ends, so does the VM.
extension VMSupervisor {
    /// The owner of the warm-up's slot: clients are numbered from 1.
    static let warmUpOwner: ClientID = 0

    func warmUp(_ pool: PoolPlan, until deadline: Double) throws {
        let qemu = try running()
        try perform(.mountShares(plan.shares), until: deadline, what: "the guest agent did not mount the pod share")
        guard let slot = slots.reserve(for: Self.warmUpOwner) else { throw VesselError.guest("no exec slot for the warm-up") }
        let relay = try StdioRelay.forSlot(slot, consoleSocket: nil) { try qemu.connect(GuestPorts.fileName($0), until: deadline) }
        defer {
            relay.closeStdin()
            relay.ownedFDs.forEach { close($0) }
            _ = slots.disconnect(Self.warmUpOwner)
        }
        var join = pool.warmUp
        join.slot = slot
        stdio = relay
        defer { stdio = nil }
        for command in [AgentCommand.join(join), .member(id: join.id, .start)] {
            try perform(command, until: deadline, what: "the guest agent did not start the warm-up", context: "warm-up: ")
        }
        while true {
            let message = try qemu.awaitAgent(
                on: control, until: deadline, seconds: plan.bootTimeoutSeconds, what: "the warm-up did not end"
            ) { _ = relay.drain() }
            guard case let .event(.execExit(exited, status)) = message, exited == slot else { continue }
            while relay.drain() {}
            slots.exited(slot)
            if status != 0 { throw VesselError.guest("in the guest: the warm-up exited with status \(status)") }
            return
        }
    }

    public var isPoolVM: Bool { plan.pool != nil }

    /// A refill starts pool VMs at the lowest priority (so the container
    /// that took a VM keeps the CPU); a ready one runs as any VM does.
    func restoreNormalPriority() {
        setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 0)
        guard let qemu else { return }
        for task in FileIO.listDirectory("/proc/\(qemu.pid)/task").compactMap({ id_t($0) }) {
            setpriority(__priority_which_t(PRIO_PROCESS.rawValue), task, 0)
        }
    }

    /// A pool VM takes one container: nil, or why it refuses a join.
    func poolRefusal() -> String? {
        guard plan.pool != nil else { return nil }
        return poolTaken ? "vm supervisor: this pool VM has served its container already" : nil
    }

    /// After a member's exit: a pool VM whose container has ended ends too.
    func endIfPoolServed() {
        guard plan.pool != nil, poolTaken, members.isEmpty else { return }
        qemu?.kill()
    }
}
