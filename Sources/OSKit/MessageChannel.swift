import Errors
import FoundationEssentials
import Glibc

// Typed messages over an fd: each one a frame (see Framing) holding the
// message as JSON. The same class serves the init socket, the VM
// supervisor's socket and the guest's control port. Reads are buffered, so
// one read may yield several messages; writes retry until the frame is out.
public final class MessageChannel {
    public let fd: Int32
    private var decoder = FrameDecoder()
    /// Set at EOF or a read error; messages already buffered can still be read.
    public private(set) var closed = false
    /// Why the stream cannot go on (cut mid-frame, an oversize frame),
    /// thrown once by `next` after the buffered messages.
    private var failure: VesselError?

    public init(fd: Int32) { self.fd = fd }

    /// Writes one message; false when the peer is gone or it cannot be encoded.
    @discardableResult
    public func send<M: Encodable>(_ message: M) -> Bool {
        guard let payload = try? Self.encode(message) else { return false }
        return send(payload: payload)
    }

    /// Writes one message already encoded (one written out by hand).
    @discardableResult
    public func send(payload: [UInt8]) -> Bool {
        guard let frame = try? Framing.frame(payload) else { return false }
        return FDIO.writeAll(fd, frame)
    }

    /// Reads what is available (one read call) into the buffer.
    public func fill() {
        guard !closed else { return }
        // Not zeroed, as FileIO.readAll's: only the bytes read are touched.
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: FileIO.readChunk, alignment: 16)
        defer { chunk.deallocate() }
        let count = read(fd, chunk.baseAddress, chunk.count)
        if count < 0 && (errno == EINTR || errno == EAGAIN) { return }
        guard count > 0 else {
            closed = true
            if decoder.unfinished > 0 {
                failure = VesselError.setup("the peer closed in the middle of a message (\(decoder.unfinished) bytes of it arrived)")
            }
            return
        }
        decoder.append(UnsafeRawBufferPointer(rebasing: chunk[0..<count]))
    }

    /// The next buffered message, nil when none is complete yet. A frame
    /// that is not a `M` throws and is skipped; a broken stream throws and
    /// closes the channel.
    public func next<M: Decodable>(_ type: M.Type) throws(VesselError) -> M? {
        try nextPayload().map { payload throws(VesselError) in try Self.decode(type, from: payload) }
    }

    /// The next buffered message undecoded, as `next` takes it.
    public func nextPayload() throws(VesselError) -> [UInt8]? {
        let payload: [UInt8]?
        do {
            payload = try decoder.next()
        } catch {
            closed = true
            decoder = FrameDecoder()
            throw error
        }
        guard let payload else {
            if let failure {
                self.failure = nil
                throw failure
            }
            return nil
        }
        return payload
    }

    /// Every complete message buffered now, for poll loops; a frame that
    /// is not a `M` is skipped after `skipped` hears why.
    public func drain<M: Decodable>(_ type: M.Type, skipped: (VesselError) -> Void = { _ in }) -> [M] {
        var messages: [M] = []
        while true {
            do {
                guard let message = try next(type) else { return messages }
                messages.append(message)
            } catch {
                skipped(error)
            }
        }
    }

    /// Blocks until a message arrives (nil at EOF, or once `timeoutMilliseconds`
    /// pass; a negative timeout waits for ever).
    public func receive<M: Decodable>(_ type: M.Type, timeoutMilliseconds: Int32 = -1) throws(VesselError) -> M? {
        try receivePayload(timeoutMilliseconds: timeoutMilliseconds).map { payload throws(VesselError) in
            try Self.decode(type, from: payload)
        }
    }

    /// `receive`, undecoded.
    public func receivePayload(timeoutMilliseconds: Int32 = -1) throws(VesselError) -> [UInt8]? {
        let deadline = SystemClock.now() + Double(timeoutMilliseconds) / 1000
        while true {
            if let payload = try nextPayload() { return payload }
            if closed { return nil }
            let remaining = timeoutMilliseconds < 0 ? -1 : Int32(max(0, (deadline - SystemClock.now()) * 1000))
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, remaining)
            if ready == 0 { return nil }
            if ready < 0 && errno != EINTR { return nil }
            if ready > 0 { fill() }
        }
    }

    public func close() { _ = Glibc.close(fd) }

    public static func encode<M: Encodable>(_ message: M) throws -> [UInt8] {
        Array(try JSONEncoder().encode(message))
    }

    public static func decode<M: Decodable>(_ type: M.Type, from payload: [UInt8]) throws(VesselError) -> M {
        do {
            return try JSONDecoder().decode(type, from: Data(payload))
        } catch {
            throw VesselError(error).wrapped("unreadable \(type) message")
        }
    }
}
