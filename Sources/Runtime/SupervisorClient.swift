import Errors
import Glibc
import Linux
import OSKit
import MicroVM

// A VM-mode command's connection to the container's supervisor over
// <state dir>/supervisor.sock: numbered requests, each answered by the
// reply with its number; events for this client wait in a queue.
final class SupervisorClient {
    let channel: MessageChannel
    let id: String
    private var nextRequestID: UInt64 = 1
    private var events: [SupervisorEvent] = []

    init(directory: String, id: String) throws {
        let path = SupervisorFiles.socket(in: directory)
        do {
            channel = MessageChannel(fd: try SocketDirectory(directory).connect(SupervisorFiles.socketName))
        } catch {
            throw VesselError.initFailed("vm: the supervisor of container \(id) does not answer on \(path): \(error.reason)")
        }
        self.id = id
    }

    /// A client on a connection made elsewhere (tests).
    init(channel: MessageChannel, id: String) {
        self.channel = channel
        self.id = id
    }

    func close() { channel.close() }

    /// Sends a request without waiting; its reply is skipped when it comes.
    @discardableResult
    func post(_ command: SupervisorCommand) -> UInt64 {
        let requestID = nextRequestID
        nextRequestID += 1
        channel.send(SupervisorRequest(id: requestID, command: command))
        return requestID
    }

    /// Sends a request and waits (bounded) for its answer; a refusal throws.
    func request(_ command: SupervisorCommand, timeoutSeconds: Int32 = 30) throws -> Answer {
        let requestID = post(command)
        let deadline = SystemClock.now() + Double(timeoutSeconds)
        while true {
            let remaining = Int32(max(0, (deadline - SystemClock.now()) * 1000))
            guard remaining > 0, let message = try channel.receive(SupervisorReport.self, timeoutMilliseconds: remaining) else {
                if channel.closed { throw VesselError.initFailed("vm: container \(id): the VM stopped before it answered") }
                throw VesselError.initFailed("vm: container \(id): no answer from the guest within \(timeoutSeconds) s")
            }
            switch message {
            case let .event(event):
                events.append(event)
            case let .reply(reply) where reply.id == requestID || reply.id == 0:
                // Id 0: the supervisor could not read a request of ours.
                if let reason = reply.answer.failure { throw VesselError.initFailed(reason) }
                return reply.answer
            case .reply:
                continue  // a posted request's answer
            }
        }
    }

    /// The events that arrived, read after a poll said the socket is readable.
    func receivedEvents() -> [SupervisorEvent] {
        channel.fill()
        return bufferedEvents()
    }

    /// The events already read (with a reply, or queued while a request
    /// waited), without reading the socket.
    func bufferedEvents() -> [SupervisorEvent] {
        for case let .event(event) in channel.drain(SupervisorReport.self) { events.append(event) }
        let arrived = events
        events = []
        return arrived
    }

    /// One request on a connection of its own.
    static func send(_ command: ContainerCommand, to target: VMTarget) throws -> Answer {
        let client = try SupervisorClient(directory: target.supervisorDirectory, id: target.id)
        defer { client.close() }
        return try client.request(target.command(command))
    }
}
