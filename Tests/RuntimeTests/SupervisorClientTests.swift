import Glibc
import MicroVM
import OSKit
@testable import Runtime
import XCTest

final class SupervisorClientTests: XCTestCase {
    /// An exec's reply and its process's exit can arrive in one read: the
    /// exit must still be seen, from the buffer, though the socket will
    /// not poll readable again (a VM exec used to wait for the engine's
    /// timeout then).
    func testAnEventReadWithAReplyIsStillDelivered() throws {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds), 0)
        let supervisor = MessageChannel(fd: fds[1])
        defer { supervisor.close() }
        let client = SupervisorClient(channel: MessageChannel(fd: fds[0]), id: "c1")
        defer { client.close() }
        XCTAssertTrue(supervisor.send(SupervisorReport.reply(Reply(id: 1, answer: .slot(3)))))
        XCTAssertTrue(supervisor.send(SupervisorReport.event(.execExit(slot: 3, status: 5))))
        XCTAssertEqual(try client.request(.reserveSlot).slot, 3)
        var ready = pollfd(fd: fds[0], events: Int16(POLLIN), revents: 0)
        XCTAssertEqual(poll(&ready, 1, 0), 0, "the event was read with the reply: the socket has nothing more")
        XCTAssertEqual(client.bufferedEvents(), [.execExit(slot: 3, status: 5)])
    }
}
