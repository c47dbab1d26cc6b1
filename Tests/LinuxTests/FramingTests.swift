import Foundation
import Glibc
import Linux
import OSKit
import XCTest

// The framing of every vessel message: a 4-byte big-endian length, then
// JSON. Checked on the decoder alone and on real fds (no root needed).
final class FramingTests: XCTestCase {
    struct Note: Codable, Equatable {
        var text: String
        var number: Int
    }

    func testHeaderIsBigEndianLength() throws {
        XCTAssertEqual(try Framing.frame([7, 8, 9]), [0, 0, 0, 3, 7, 8, 9])
        XCTAssertEqual(Array(try Framing.frame([UInt8](repeating: 1, count: 0x10203)).prefix(4)), [0, 1, 2, 3])
    }

    func testAFrameArrivingByteByByte() throws {
        var decoder = FrameDecoder()
        let frame = try Framing.frame(Array("hello".utf8))
        for byte in frame.dropLast() {
            decoder.append([byte])
            XCTAssertNil(try decoder.next())
        }
        decoder.append([frame.last!])
        XCTAssertEqual(try decoder.next(), Array("hello".utf8))
        XCTAssertNil(try decoder.next())
        XCTAssertEqual(decoder.unfinished, 0)
    }

    func testSeveralFramesInOneReadAndAnEmptyOne() throws {
        var decoder = FrameDecoder()
        decoder.append(try Framing.frame([1]) + Framing.frame([]) + Framing.frame([2, 3]) + [0, 0])
        XCTAssertEqual(try decoder.next(), [1])
        XCTAssertEqual(try decoder.next(), [])
        XCTAssertEqual(try decoder.next(), [2, 3])
        XCTAssertNil(try decoder.next())
        XCTAssertEqual(decoder.unfinished, 2, "half a header waits for the rest")
    }

    func testOversizeFramesAreRefusedBothWays() {
        var decoder = FrameDecoder()
        decoder.append([0xff, 0xff, 0xff, 0xff, 1, 2])
        XCTAssertThrowsError(try decoder.next()) { XCTAssertTrue("\($0)".contains("refused"), "\($0)") }
        XCTAssertThrowsError(try Framing.frame([UInt8](repeating: 0, count: Framing.maximumPayload + 1)))
    }

    /// Socket pairs of both kinds and a pipe carry typed messages.
    func testMessagesOverStreamSeqpacketAndPipe() throws {
        for kind in [SOCK_STREAM, SOCK_SEQPACKET] {
            let (a, b) = try socketPair(Int32(kind.rawValue))
            defer { a.close(); b.close() }
            try assertCarries(from: a, to: b)
        }
        var ends: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&ends), 0)
        let (reader, writer) = (MessageChannel(fd: ends[0]), MessageChannel(fd: ends[1]))
        defer { reader.close(); writer.close() }
        try assertCarries(from: writer, to: reader)
    }

    func assertCarries(from sender: MessageChannel, to receiver: MessageChannel, file: StaticString = #filePath, line: UInt = #line) throws {
        let notes = [Note(text: "one", number: 1), Note(text: String(repeating: "x", count: 3000), number: 2)]
        for note in notes { XCTAssertTrue(sender.send(note), file: file, line: line) }
        for note in notes {
            XCTAssertEqual(try receiver.receive(Note.self, timeoutMilliseconds: 1000), note, file: file, line: line)
        }
    }

    /// A frame larger than one read (64 KiB) arrives whole over a stream.
    func testALargeMessageSpansReads() throws {
        let (a, b) = try socketPair(Int32(SOCK_STREAM.rawValue))
        defer { a.close(); b.close() }
        let note = Note(text: String(repeating: "y", count: 300_000), number: 3)
        let fd = a.fd  // a channel of its own on the writer thread: MessageChannel is not Sendable
        let writer = Thread { MessageChannel(fd: fd).send(note) }
        writer.start()
        XCTAssertEqual(try b.receive(Note.self, timeoutMilliseconds: 5000), note)
    }

    func testEOFInTheMiddleOfAFrameIsAnError() throws {
        let (a, b) = try socketPair(Int32(SOCK_STREAM.rawValue))
        defer { b.close() }
        let frame = try Framing.frame(MessageChannel.encode(Note(text: "cut", number: 4)))
        XCTAssertTrue(FDIO.writeAll(a.fd, Array(frame.prefix(frame.count - 3))))
        a.close()
        XCTAssertThrowsError(try b.receive(Note.self, timeoutMilliseconds: 1000)) {
            XCTAssertTrue("\($0)".contains("middle of a message"), "\($0)")
        }
        XCTAssertTrue(b.closed)
        XCTAssertNil(try b.receive(Note.self, timeoutMilliseconds: 10), "the failure is reported once")
    }

    func testEOFBetweenFramesIsAPlainEnd() throws {
        let (a, b) = try socketPair(Int32(SOCK_STREAM.rawValue))
        defer { b.close() }
        a.send(Note(text: "last", number: 5))
        a.close()
        XCTAssertEqual(try b.receive(Note.self, timeoutMilliseconds: 1000), Note(text: "last", number: 5))
        XCTAssertNil(try b.receive(Note.self, timeoutMilliseconds: 1000))
        XCTAssertTrue(b.closed)
    }

    func testAMessageOfAnotherTypeIsSkippedWithAnError() throws {
        let (a, b) = try socketPair(Int32(SOCK_STREAM.rawValue))
        defer { a.close(); b.close() }
        a.send(["unexpected": true])
        a.send(Note(text: "after", number: 6))
        XCTAssertThrowsError(try b.receive(Note.self, timeoutMilliseconds: 1000))
        XCTAssertEqual(try b.receive(Note.self, timeoutMilliseconds: 1000), Note(text: "after", number: 6))
    }

    func testTimeoutWithoutAMessage() throws {
        let (a, b) = try socketPair(Int32(SOCK_STREAM.rawValue))
        defer { a.close(); b.close() }
        XCTAssertNil(try b.receive(Note.self, timeoutMilliseconds: 20))
        XCTAssertFalse(b.closed)
    }

    func socketPair(_ type: Int32) throws -> (MessageChannel, MessageChannel) {
        var fds: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, type | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
            throw XCTSkip("socketpair: errno \(errno)")
        }
        return (MessageChannel(fd: fds[0]), MessageChannel(fd: fds[1]))
    }
}
