import FoundationEssentials
import OSKit

// A pod sandbox's supervisor serves its pod's further containers too
// (PodShare): each one's host relay reserves an exec slot for its stdio
// and asks to join; the agent runs it beside the sandbox's container. The
// supervisor keeps each member's status files in the member's own state
// directory, as it keeps the sandbox's in its own.
extension VMSupervisor {
    func answerJoin(_ join: PodJoin, request: SupervisorRequest, from client: ClientID) -> Answer? {
        guard plan.shares.contains(where: { $0.tag == PodShare.tag }) else {
            return .failed(reason: "vm supervisor: this VM is not a pod sandbox's: no container can join it")
        }
        guard exitCode == nil else { return .failed(reason: "vm supervisor: the pod sandbox has exited") }
        if let refusal = poolRefusal() { return .failed(reason: refusal) }
        guard memberDirectory(join.id) != nil, !members.values.contains(join.id) else {
            return .failed(reason: "vm supervisor: container \(join.id) cannot join: bad id, or it has joined already")
        }
        guard slots.owner(of: join.slot) == client else {
            return .failed(reason: "vm supervisor: exec slot \(join.slot) is not reserved by this connection")
        }
        slots.started(join.slot)
        members[join.slot] = join.id
        var join = join
        if plan.pool != nil {
            poolTaken = true
            join.refresh = GuestRefresh.now()
        }
        forward(request.command, as: .join(join), from: client, requestID: request.id)
        return nil
    }

    /// A member's state directory: a sibling of this one (a pool VM's:
    /// in the state root it serves). Nil for an id that could name
    /// anything else.
    func memberDirectory(_ id: String) -> String? {
        guard !id.isEmpty, !id.contains("/"), id != ".", id != "..", !directory.hasSuffix("/" + id) else { return nil }
        if let pool = plan.pool { return pool.memberRoot + "/" + id }
        guard let slash = directory.lastIndex(of: "/") else { return nil }
        return String(directory[..<slash]) + "/" + id
    }

    func memberExited(_ id: String, status: Int32) {
        guard let memberDirectory = memberDirectory(id) else { return }
        try? FileIO.writeAtomically(SupervisorFiles.exitCode(in: memberDirectory), Data("\(status)".utf8))
        setStatus("stopped", in: memberDirectory)
    }
}
