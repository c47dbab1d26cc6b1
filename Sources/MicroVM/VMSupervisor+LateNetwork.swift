import Errors
import OSKit

// start, for a VM whose network namespace is the supervisor's own: what an
// engine put there since create is carried into the guest before the
// container's process starts (CarriedNetwork.carryLate), as in linux mode,
// where the engine's set-up between create and start is what the process
// finds.
extension VMSupervisor {
    /// The agent's reply to this request is awaited here, not routed.
    static let lateNetworkRequestID = UInt64.max

    /// nil when carried (or when there is nothing to carry); else why not.
    func carryLateNetwork(timeoutSeconds: Double = 20) -> String? {
        guard let carried else { return nil }
        do {
            guard let update = try carried.carryLate() else { return nil }
            control.send(AgentRequest(id: Self.lateNetworkRequestID, command: .network(update)))
            let deadline = SystemClock.now() + timeoutSeconds
            while SystemClock.now() < deadline {
                let remaining = Int32(max(1, (deadline - SystemClock.now()) * 1000))
                guard let message = try control.receive(AgentReport.self, timeoutMilliseconds: remaining) else {
                    if control.closed { break }
                    continue
                }
                guard case let .reply(reply) = message, reply.id == Self.lateNetworkRequestID else {
                    dispatch(message)
                    continue
                }
                return reply.answer.failure.map { "vm: in the guest: " + $0 }
            }
            return "vm: the guest agent did not set up the container's network within \(Int(timeoutSeconds)) s"
        } catch {
            return "vm: carry the engine's network into the VM: \(error)"
        }
    }
}
