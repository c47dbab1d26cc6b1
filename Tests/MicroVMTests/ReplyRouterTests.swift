import MicroVM
import XCTest

// The supervisor's map from the ids it sends the agent to the clients
// waiting: by id, never by order or fd.
final class ReplyRouterTests: XCTestCase {
    /// Two clients both number their first request 1; the agent answers
    /// in the other order; each answer reaches the client that asked.
    func testTwoClientsWithTheSameRequestIDGetTheirOwnAnswers() {
        var router = ReplyRouter()
        let first = router.register(.container(.ps), from: 10, requestID: 1)
        let second = router.register(.container(.pause), from: 11, requestID: 1)
        XCTAssertNotEqual(first, second)
        XCTAssertEqual(router.route(Reply(id: second, answer: .done)), .init(client: 11, requestID: 1, command: .container(.pause)))
        XCTAssertEqual(router.route(Reply(id: first, answer: .pids([1]))), .init(client: 10, requestID: 1, command: .container(.ps)))
        XCTAssertEqual(router.outstanding, 0)
    }

    /// A client that leaves before its answer: the answer settles (the
    /// supervisor still learns the container is paused) but goes to nobody,
    /// even though the next client may get the same fd number.
    func testAnAnswerForAClientThatLeftReachesNobody() {
        var router = ReplyRouter()
        let gone = router.register(.container(.pause), from: 1, requestID: 5)
        let waiting = router.register(.container(.ps), from: 2, requestID: 5)
        router.disconnect(1)
        XCTAssertEqual(router.route(Reply(id: gone, answer: .done)), .init(client: nil, requestID: 5, command: .container(.pause)))
        XCTAssertEqual(router.route(Reply(id: waiting, answer: .pids([1])))?.client, 2)
    }

    func testUnknownAndRepeatedRepliesAreDropped() {
        var router = ReplyRouter()
        let id = router.register(.container(.start), from: nil, requestID: 0)
        XCTAssertNil(router.route(Reply(id: id + 100, answer: .done)))
        XCTAssertNotNil(router.route(Reply(id: id, answer: .done)))
        XCTAssertNil(router.route(Reply(id: id, answer: .done)), "one reply per request")
    }

    /// A slot stays taken until its client has gone and the guest reported
    /// its process's exit; a client that dies first gets its running slots
    /// back to kill.
    func testExecSlotsAreFreeOnlyOnceTheGuestReleasedThem() {
        var slots = ExecSlots(count: 2)
        XCTAssertEqual(slots.reserve(for: 1), 1)
        slots.started(1)
        XCTAssertEqual(slots.disconnect(1), [1], "the process still runs: kill it")
        XCTAssertEqual(slots.reserve(for: 2), 2, "slot 1's ports are still the guest's")
        XCTAssertNil(slots.reserve(for: 3))
        slots.exited(1)
        XCTAssertEqual(slots.reserve(for: 3), 1)
        XCTAssertEqual(slots.owner(of: 1), 3)
        XCTAssertEqual(slots.disconnect(3), [], "nothing was started in it")
        XCTAssertEqual(slots.reserve(for: 4), 1)
    }
}
