import Errors
import CVessel
import FoundationEssentials
import Glibc
import OSKit

// QEMU's machine protocol (QMP) on a unix socket: a JSON object a line each
// way; events come between replies and are skipped. Only what templates
// need: save a stopped guest's state to a file and load it into a new QEMU.
final class QMPClient {
    private let fd: Int32
    private var buffer: [UInt8] = []

    /// Takes the connected socket; reads the greeting and leaves QMP's
    /// negotiation mode.
    init(fd: Int32, until deadline: Double) throws(VesselError) {
        self.fd = fd
        do {
            _ = try nextLine(until: deadline)
            try execute("qmp_capabilities", until: deadline)
        } catch {
            close(fd)
            throw error
        }
    }

    deinit { close(fd) }

    struct Request<Arguments: Encodable>: Encodable {
        var execute: String
        var arguments: Arguments?
    }

    struct NoArguments: Encodable {}

    /// What QMP sends: a reply (`return` or `error`), an event, or the greeting.
    struct Message: Decodable {
        struct Failure: Decodable { var desc: String }
        struct Migration: Decodable {
            var status: String?
            var errorDescription: String?
            enum CodingKeys: String, CodingKey {
                case status
                case errorDescription = "error-desc"
            }
        }
        var error: Failure?
        var event: String?
        /// Present for a reply; `query-migrate`'s fields when it has them.
        var returned: Migration?
        var isReply: Bool

        enum CodingKeys: String, CodingKey {
            case error, event
            case returned = "return"
        }

        init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            error = try container.decodeIfPresent(Failure.self, forKey: .error)
            event = try container.decodeIfPresent(String.self, forKey: .event)
            returned = try? container.decodeIfPresent(Migration.self, forKey: .returned)
            isReply = error != nil || container.contains(.returned)
        }
    }

    @discardableResult
    func execute<Arguments: Encodable>(
        _ command: String, _ arguments: Arguments? = NoArguments?.none,
        passing passed: Int32 = -1, until deadline: Double
    ) throws(VesselError) -> Message {
        let text: String
        do {
            text = String(decoding: try JSONEncoder().encode(Request(execute: command, arguments: arguments)), as: UTF8.self) + "\n"
        } catch {
            throw VesselError.setup("QMP: cannot encode \(command)")
        }
        // A descriptor travels with the command's own bytes (SCM_RIGHTS).
        let sent = passed >= 0 ? vessel_send_fd(fd, passed, text) == 0 : FDIO.writeAll(fd, Array(text.utf8))
        guard sent else { throw VesselError.system("QMP: send \(command)") }
        while true {
            let line = try nextLine(until: deadline)
            guard let message = try? JSONDecoder().decode(Message.self, from: Data(line)), message.isReply else { continue }
            if let error = message.error { throw VesselError.guest("QEMU refused \(command): \(error.desc)") }
            return message
        }
    }

    /// Saves the stopped machine's state into `file` (RAM in a shared
    /// memory file stays out of it: x-ignore-shared).
    func saveState(to file: Int32, until deadline: Double) throws(VesselError) {
        try execute("stop", until: deadline)
        try ignoreSharedMemory(until: deadline)
        try execute("getfd", ["fdname": "vessel-state"], passing: file, until: deadline)
        try execute("migrate", ["uri": "fd:vessel-state"], until: deadline)
        try awaitMigration(until: deadline)
    }

    /// Loads a saved state from `fd` (a number QEMU inherited) into a QEMU
    /// started with `-incoming defer`, and runs the guest.
    func loadState(fromInherited fd: Int32, until deadline: Double) throws(VesselError) {
        try ignoreSharedMemory(until: deadline)
        try execute("migrate-incoming", ["uri": "fd:\(fd)"], until: deadline)
        try awaitMigration(until: deadline)
        // The template was saved stopped: its clones start stopped too.
        try execute("cont", until: deadline)
    }

    private func ignoreSharedMemory(until deadline: Double) throws(VesselError) {
        struct Capability: Encodable { var capability: String; var state: Bool }
        try execute("migrate-set-capabilities", ["capabilities": [Capability(capability: "x-ignore-shared", state: true)]], until: deadline)
    }

    private func awaitMigration(until deadline: Double) throws(VesselError) {
        while true {
            let status = try execute("query-migrate", until: deadline).returned
            switch status?.status {
            case "completed": return
            case "failed", "cancelled":
                throw VesselError.guest("QEMU's migration \(status?.status ?? ""): \(status?.errorDescription ?? "no reason given")")
            default:
                if SystemClock.now() > deadline { throw VesselError.guest("QEMU's migration did not complete in time") }
                usleep(2000)
            }
        }
    }

    /// The next line QEMU sent, waiting at most until `deadline`.
    private func nextLine(until deadline: Double) throws(VesselError) -> [UInt8] {
        while true {
            if let end = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(buffer[..<end])
                buffer.removeSubrange(...end)
                return line
            }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let remaining = Int32(max(0, (deadline - SystemClock.now()) * 1000))
            guard remaining > 0, poll(&poller, 1, remaining) > 0 else { throw VesselError.guest("QEMU's QMP did not answer in time") }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { throw VesselError.guest("QEMU closed its QMP socket") }
            buffer += chunk[0..<count]
        }
    }
}
