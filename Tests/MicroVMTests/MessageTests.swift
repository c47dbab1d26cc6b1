import Linux
import OSKit
import MicroVM
import OCI
import XCTest

// Every message of the two VM protocols, and the start report, through the
// framing and back.
final class MessageTests: XCTestCase {
    func roundTrip<M: Codable & Equatable>(_ message: M, file: StaticString = #filePath, line: UInt = #line) throws {
        var decoder = FrameDecoder()
        decoder.append(try Framing.frame(MessageChannel.encode(message)))
        let payload = try XCTUnwrap(try decoder.next(), file: file, line: line)
        XCTAssertEqual(try MessageChannel.decode(M.self, from: payload), message, file: file, line: line)
    }

    static let commands: [ContainerCommand] = [
        .start, .kill(signal: 15, all: true), .pause, .resume, .ps,
        .exec(slot: 2, process: Process(terminal: true, args: ["sh"], env: ["TERM=xterm"])),
        .signalExec(slot: 3, signal: 2), .resize(slot: 1, rows: 33, columns: 99),
        .update(Resources.pidsLimit(10)),
    ]

    func testAgentRequests() throws {
        var spec = Spec(ociVersion: "1.0.2", process: Process(args: ["true"]))
        spec.hostname = "guest"
        let create = GuestCreate(spec: spec, shares: [QemuCommand.Share(tag: "rootfs", hostPath: "/b/rootfs", readOnly: true)], network: true)
        try roundTrip(AgentRequest(id: 0, command: .create(create)))
        for (index, command) in Self.commands.enumerated() {
            try roundTrip(AgentRequest(id: UInt64(index + 1), command: .container(command)))
        }
    }

    func testAgentReportsAndSupervisorReports() throws {
        let answers: [Answer] = [.done, .pid(42), .pids([1, 7]), .slot(3), .failed(reason: "agent: no terminal in slot 1")]
        for (index, answer) in answers.enumerated() {
            try roundTrip(AgentReport.reply(Reply(id: UInt64(index), answer: answer)))
            try roundTrip(SupervisorReport.reply(Reply(id: UInt64(index), answer: answer)))
        }
        for event in [
            AgentEvent.ready(kernel: "6.1.0-28-amd64", uptime: 1.25), .ready(kernel: "6.1", uptime: nil),
            .exit(status: 137), .execExit(slot: 4, status: 0),
        ] {
            try roundTrip(AgentReport.event(event))
        }
        try roundTrip(SupervisorReport.event(.execExit(slot: 1, status: 9)))
    }

    func testSupervisorRequests() throws {
        try roundTrip(SupervisorRequest(id: 1, command: .reserveSlot))
        for command in Self.commands { try roundTrip(SupervisorRequest(id: UInt64.max, command: .container(command))) }
    }

    func testStartReports() throws {
        try roundTrip(StartReport.started(detail: "6.1.0-28-amd64"))
        try roundTrip(StartReport.failed(reason: "QEMU exited with status 1"))
        XCTAssertEqual(StartReport.failure(.failed(reason: "no"), otherwise: "other"), "no")
        XCTAssertEqual(StartReport.failure(.started(detail: ""), otherwise: "other"), "other")
        XCTAssertEqual(StartReport.failure(nil, otherwise: "other"), "other")
    }

    /// A request for one protocol is not mistaken for the other's.
    func testAnotherProtocolsMessageIsRefused() throws {
        let payload = try MessageChannel.encode(SupervisorRequest(id: 1, command: .reserveSlot))
        XCTAssertThrowsError(try MessageChannel.decode(AgentRequest.self, from: payload))
        XCTAssertThrowsError(try MessageChannel.decode(SupervisorReport.self, from: payload))
    }

    func testSlotsOfCommands() {
        XCTAssertEqual(Self.commands.map(\.slot), [nil, nil, nil, nil, nil, 2, 3, 1, nil])
    }
}

extension Resources {
    static func pidsLimit(_ limit: Int64) -> Resources {
        var resources = Resources()
        resources.pids = Pids(limit: limit)
        return resources
    }
}
