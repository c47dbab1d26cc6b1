import Errors
import Glibc
import OSKit

// One QEMU that vessel started: for a container (the supervisor's, cold or
// restored) or for a template (TemplateBuilder). It dies with the thread
// that spawned it (PDEATHSIG), writes its errors to qemu.log and the
// guest's console to console.log in the VM's directory, and binds its
// sockets through a descriptor of that directory (SocketDirectory).
public final class QemuProcess {
    public let pid: pid_t
    /// QEMU's wait status, once reaped.
    public private(set) var waitStatus: Int32?
    let sockets: SocketDirectory

    private init(pid: pid_t, sockets: SocketDirectory) {
        self.pid = pid
        self.sockets = sockets
    }

    /// Spawns QEMU with the command line `arguments` makes from the short
    /// path of the VM's directory in QEMU and the numbers there of the
    /// `inheriting` descriptors (for /proc/self/fd/<n> paths or fd: URIs).
    public static func spawn(
        in sockets: SocketDirectory, inheriting: [Int32] = [],
        arguments: (_ socketDirectory: String, _ inherited: [Int32]) -> [String]
    ) throws -> QemuProcess {
        let directory = sockets.directory
        let log = open(SupervisorFiles.qemuLog(in: directory), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        let socketDirectory = try sockets.inheritable()
        // Copies without close-on-exec: QEMU inherits them by number.
        let inherited = inheriting.map { fcntl($0, F_DUPFD, 3) }
        defer {
            ([socketDirectory.fd, log, null] + inherited).filter { $0 >= 0 }.forEach { close($0) }
        }
        if inherited.contains(where: { $0 < 0 }) { throw VesselError.system("duplicate a descriptor for QEMU") }
        let command = arguments(socketDirectory.path, inherited)
        var request = SpawnRequest(path: try VMSupervisor.resolve(command[0]), arguments: command, environment: ["PATH=/usr/bin:/bin"])
        request.stdio = (null, null, log)
        request.parentDeathSignal = SIGKILL
        return QemuProcess(pid: try Spawner.spawn(request), sockets: sockets)
    }

    /// Reaps QEMU if it has exited; true once it has.
    @discardableResult
    public func reap() -> Bool {
        guard waitStatus == nil else { return true }
        var status: Int32 = 0
        guard waitpid(pid, &status, WNOHANG) == pid else { return false }
        waitStatus = status
        return true
    }

    /// Throws, saying why, once QEMU has exited.
    public func check() throws(VesselError) {
        guard reap(), let status = waitStatus else { return }
        let log = (try? FileIO.read(SupervisorFiles.qemuLog(in: sockets.directory)))?.split(separator: "\n").last.map(String.init)
        throw VesselError.guest(
            "QEMU exited with status \(Spawner.exitCode(fromWaitStatus: status))"
                + (log.map { ": " + $0 } ?? "") + consoleTail())
    }

    /// Ends QEMU now and reaps it.
    public func kill() {
        guard waitStatus == nil else { return }
        Glibc.kill(pid, SIGKILL)
        waitStatus = Spawner.wait(pid)
    }

    /// A socket QEMU makes at start-up (a port's, QMP's), once it exists.
    public func connect(_ name: String, until deadline: Double) throws -> Int32 {
        while true {
            if let fd = try? sockets.connect(name) { return fd }
            try check()
            if SystemClock.now() > deadline { throw VesselError.guest("QEMU did not open \(sockets.directory)/\(name)") }
            usleep(2000)
        }
    }

    /// The next message from the guest agent on `control` before
    /// `deadline` (`seconds` from when it was set, for the message);
    /// `idle` runs between waits (the supervisor relays the guest's output).
    public func awaitAgent(
        on control: MessageChannel, until deadline: Double, seconds: Int, what: String,
        idle: () -> Void = {}
    ) throws -> AgentReport {
        while true {
            try check()
            let remaining = Int32(max(0, (deadline - SystemClock.now()) * 1000))
            if remaining == 0 { throw VesselError.guest("\(what) within \(seconds) s\(consoleTail())") }
            idle()
            let message: AgentReport?
            do {
                message = try control.receive(AgentReport.self, timeoutMilliseconds: min(remaining, 50))
            } catch {
                continue  // not a message of this protocol: skipped
            }
            if let message { return message }
            if control.closed {
                // QEMU closes the port as it exits: report its exit instead.
                for _ in 0..<200 { try check(); usleep(5000) }
                throw VesselError.guest("the control port closed\(consoleTail())")
            }
        }
    }

    /// Sends `command` to the agent and waits for its answer, skipping what
    /// else it sends meanwhile. Id 0: used only before the supervisor's
    /// router numbers requests (from 1).
    public func ask(
        _ command: AgentCommand, on control: MessageChannel, until deadline: Double, seconds: Int,
        what: String, idle: () -> Void = {}
    ) throws -> Answer {
        control.send(AgentRequest(id: 0, command: command))
        while true {
            let message = try awaitAgent(on: control, until: deadline, seconds: seconds, what: what, idle: idle)
            if case let .reply(reply) = message, reply.id == 0 { return reply.answer }
        }
    }

    /// The guest console's last line, which says why a boot failed.
    public func consoleTail() -> String {
        let bytes = (try? FileIO.readBytes(sockets.directory + "/console.log")) ?? []
        let lines = bytes.split(separator: UInt8(ascii: "\n")).map { String(decoding: $0.filter { $0 != 13 }, as: UTF8.self) }
        guard let last = lines.last(where: { !$0.allSatisfy { $0 == " " } }) else { return "" }
        return " (guest console: \(last))"
    }
}
