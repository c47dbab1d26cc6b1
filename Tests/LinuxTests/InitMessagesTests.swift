import CVessel
import Foundation
import Linux
import OSKit
import OCI
import XCTest

// The parent<->init messages survive encoding, and the C shim's failure
// record is a frame the parent decodes into the step and errno it named.
final class InitMessagesTests: XCTestCase {
    func roundTrip<M: Codable>(_ message: M) throws -> M {
        var decoder = FrameDecoder()
        decoder.append(try Framing.frame(MessageChannel.encode(message)))
        return try MessageChannel.decode(M.self, from: try XCTUnwrap(try decoder.next()))
    }

    func testEveryInitEventRoundTrips() throws {
        let events: [InitEvent] = [
            .mounted, .ready, .failed(reason: "mount /proc: Permission denied"),
            .spawnFailed(step: .joinNamespace, errno: EPERM),
        ]
        for event in events { XCTAssertEqual(try roundTrip(event), event) }
    }

    func testTheCreateHandoffCarriesTheSpec() throws {
        var spec = Spec(ociVersion: "1.0.2", process: Process(args: ["sh", "-c", "echo hi"]))
        spec.hostname = "box"
        var context = InitContext(spec: spec, fifoFD: 5, rootfs: "/b/rootfs")
        context.consoleFD = 6
        context.cgroupDirectory = "/sys/fs/cgroup/vessel/c1"
        context.pauseForHooks = true
        context.newKeyring = "_ses.c1"
        guard case let .handoff(.create(decoded)) = try roundTrip(InitCommand.handoff(.create(context))) else {
            return XCTFail("not a create hand-off")
        }
        XCTAssertEqual(decoded.spec, spec)
        XCTAssertEqual(decoded.fifoFD, 5)
        XCTAssertEqual(decoded.consoleFD, 6)
        XCTAssertEqual(decoded.rootfs, "/b/rootfs")
        XCTAssertEqual(decoded.cgroupDirectory, "/sys/fs/cgroup/vessel/c1")
        XCTAssertTrue(decoded.pauseForHooks)
        XCTAssertEqual(decoded.newKeyring, "_ses.c1")
    }

    func testTheExecHandoffAndProceed() throws {
        var plan = ExecPlan(process: Process(args: ["true"]), seccomp: Seccomp(defaultAction: "SCMP_ACT_ALLOW"), preserveFDs: 2)
        plan.mountNamespaceFD = 9
        guard case let .handoff(.exec(decoded)) = try roundTrip(InitCommand.handoff(.exec(plan))) else {
            return XCTFail("not an exec hand-off")
        }
        XCTAssertEqual(decoded.process, plan.process)
        XCTAssertEqual(decoded.seccomp, plan.seccomp)
        XCTAssertEqual(decoded.preserveFDs, 2)
        XCTAssertEqual(decoded.mountNamespaceFD, 9)
        XCTAssertEqual(decoded.consoleFD, -1)
        guard case let .proceed(state) = try roundTrip(InitCommand.proceed(state: "{\"id\":\"c1\"}")) else {
            return XCTFail("not proceed")
        }
        XCTAssertEqual(state, "{\"id\":\"c1\"}")
    }

    /// What the clone3 child writes, byte for byte, is an InitEvent.
    func testTheShimsRecordDecodesAsSpawnFailed() throws {
        for step in SpawnStep.allCases {
            var record = [CChar](repeating: 0, count: Int(VESSEL_STEP_RECORD_MAX))
            let length = vessel_step_record(&record, Int32(record.count), step.rawValue, ENOENT)
            XCTAssertGreaterThan(length, 4)
            var decoder = FrameDecoder()
            decoder.append(record.prefix(Int(length)).map { UInt8(bitPattern: $0) })
            let payload = try XCTUnwrap(try decoder.next())
            XCTAssertEqual(try MessageChannel.decode(InitEvent.self, from: payload), .spawnFailed(step: step, errno: ENOENT))
            XCTAssertEqual(decoder.unfinished, 0)
        }
        var small = [CChar](repeating: 0, count: 8)
        XCTAssertEqual(vessel_step_record(&small, 8, 1, 1), -1, "a short buffer is refused, not overrun")
    }

    func testStepNumbersMatchTheShim() {
        let shim: [SpawnStep: Int32] = [
            .unshareMount: VESSEL_STEP_UNSHARE_MOUNT, .protectBinary: VESSEL_STEP_PROTECT_BINARY,
            .openBinary: VESSEL_STEP_OPEN_BINARY, .joinNamespace: VESSEL_STEP_SETNS, .dupStdio: VESSEL_STEP_DUP2,
            .awaitHandoff: VESSEL_STEP_WAIT, .setGroupID: VESSEL_STEP_SETRESGID, .setUserID: VESSEL_STEP_SETRESUID,
            .execute: VESSEL_STEP_EXEC, .changeDirectory: VESSEL_STEP_CHDIR,
            .makeNonDumpable: VESSEL_STEP_NON_DUMPABLE, .closeDescriptors: VESSEL_STEP_CLOSE_FDS,
        ]
        XCTAssertEqual(shim.count, SpawnStep.allCases.count)
        for (step, number) in shim { XCTAssertEqual(step.rawValue, number, "\(step)") }
    }

    func testFailuresReadAsOneLineNamingTheStep() {
        XCTAssertEqual(
            InitEvent.spawnFailed(step: .joinNamespace, errno: EPERM).failure(subject: "container init"),
            "container init could not join a namespace (setns): Operation not permitted")
        XCTAssertEqual(
            InitEvent.spawnFailed(step: .dupStdio, errno: EBADF).failure(subject: "exec'd process"),
            "exec'd process could not set up its stdio (dup2): Bad file descriptor")
        XCTAssertEqual(
            InitEvent.failed(reason: "exec /x: No such file or directory").failure(subject: "container init"),
            "exec /x: No such file or directory")
        XCTAssertNil(InitEvent.ready.failure(subject: "container init"))
        XCTAssertNil(InitEvent.mounted.failure(subject: "container init"))
        for step in SpawnStep.allCases {
            XCTAssertFalse(step.describe(errno: EINVAL, subject: "container init").contains("\n"))
        }
    }

    /// The progress events written out by hand are the encoder's bytes,
    /// and every event reads back through `InitEvent.decode`, by hand or not.
    func testProgressEventsWrittenByHandAreTheirEncoding() throws {
        for event in [InitEvent.mounted, .lockingDown, .ready] {
            XCTAssertEqual(try event.payload(), try MessageChannel.encode(event), "\(event)")
            XCTAssertEqual(try MessageChannel.decode(InitEvent.self, from: try event.payload()), event)
        }
        let events: [InitEvent] = [
            .mounted, .lockingDown, .ready, .failed(reason: "mount /proc: Permission denied"),
            .spawnFailed(step: .joinNamespace, errno: EPERM),
        ]
        for event in events {
            XCTAssertEqual(try InitEvent.decode(try event.payload()), event)
            XCTAssertEqual(try InitEvent.decode(try MessageChannel.encode(event)), event)
        }
    }

    /// Over a socket pair, the InitEvent overloads of send and receive
    /// carry each event, and a generic receiver reads what they send.
    func testInitEventsCrossASocketPair() throws {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds), 0)
        let (writer, reader) = (MessageChannel(fd: fds[0]), MessageChannel(fd: fds[1]))
        defer {
            writer.close()
            reader.close()
        }
        let events: [InitEvent] = [.mounted, .failed(reason: "no"), .ready]
        for event in events { XCTAssertTrue(writer.send(event)) }
        XCTAssertEqual(try reader.receive(InitEvent.self, timeoutMilliseconds: 1000), .mounted)
        XCTAssertEqual(try reader.receive(InitEvent.self, timeoutMilliseconds: 1000), .failed(reason: "no"))
        XCTAssertEqual(try receivedGenerically(InitEvent.self, from: reader), .ready)
    }

    /// In a generic context the generic `receive` runs, JSON decoder and all.
    func receivedGenerically<M: Decodable>(_ type: M.Type, from channel: MessageChannel) throws -> M? {
        try channel.receive(type, timeoutMilliseconds: 1000)
    }

    /// The go-ahead written out by hand is the frame of `.handoff(.inPlace)`.
    func testTheInPlaceGoAheadIsTheFrameOfItsValue() throws {
        var decoder = FrameDecoder()
        decoder.append(InitCommand.goAheadFrame)
        let payload = try XCTUnwrap(try decoder.next())
        XCTAssertEqual(decoder.unfinished, 0)
        guard case .handoff(.inPlace) = try MessageChannel.decode(InitCommand.self, from: payload) else {
            return XCTFail("not the in-place go-ahead")
        }
        XCTAssertEqual(InitCommand.goAheadFrame, try Framing.frame(MessageChannel.encode(InitCommand.handoff(.inPlace))))
    }
}
