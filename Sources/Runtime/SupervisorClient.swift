import Glibc
import Linux
import MicroVM

// A VM-mode command's line to the container's supervisor: one request, one
// answer, over <state dir>/supervisor.sock.
struct SupervisorClient {
    let channel: LineChannel
    let id: String

    init(directory: String, id: String) throws {
        let path = SupervisorFiles.socket(in: directory)
        do {
            channel = LineChannel(fd: try UnixSocket.connect(path))
        } catch {
            throw RuntimeError.initFailed("vm: the supervisor of container \(id) does not answer on \(path): \(error.errno)")
        }
        self.id = id
    }

    func close() { Glibc.close(channel.fd) }

    /// Sends a request and waits (bounded) for its answer; a refusal throws.
    func request(_ message: AgentMessage, timeoutSeconds: Int32 = 30) throws -> AgentMessage {
        channel.send(message.encoded())
        guard let line = channel.receive(timeoutMilliseconds: timeoutSeconds * 1000) else {
            if channel.closed { throw RuntimeError.initFailed("vm: container \(id): the VM stopped before it answered") }
            throw RuntimeError.initFailed("vm: container \(id): no answer from the guest within \(timeoutSeconds) s")
        }
        guard let answer = AgentMessage.decode(line), answer.ok == true else {
            throw RuntimeError.initFailed(AgentMessage.decode(line)?.error ?? "vm: container \(id): unreadable answer \(line)")
        }
        return answer
    }

    /// One request on a connection of its own.
    static func send(_ message: AgentMessage, to directory: String, id: String) throws -> AgentMessage {
        let client = try SupervisorClient(directory: directory, id: id)
        defer { client.close() }
        return try client.request(message)
    }
}
