import FoundationEssentials
import Glibc
import Logging
import OSKit
import Synchronization

// Where messages go: one line on stderr for the operator, and the same line
// in --log (runc's JSON shape with --log-format json) for the engine.
struct Reporter: LogHandler {
    let file: Int32?  // --log, opened O_APPEND as fopen(path, "a") opens it
    let format: LogFormat
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let text = "\(event.message)"
        // --debug without --log: every message on stderr in runc's (logrus's)
        // shape, as `runc --debug` writes them.
        if logLevel <= .debug && file == nil {
            write(level: event.level, text, to: STDERR_FILENO)
            return
        }
        // With --log (as engines call it), warnings go to the log only, as
        // runc's do: an engine may have given us the container's stderr.
        if event.level >= .error || (event.level == .warning && file == nil) {
            TextOutput.standardError("vessel: \(event.level == .error ? "" : "\(event.level): ")\(Self.oneLine(text))\n")
        }
        guard let file else { return }
        write(level: event.level, text, to: file)
    }

    private func write(level: Logger.Level, _ text: String, to file: Int32) {
        let name = level == .warning ? "warning" : "\(level)"
        let time = Self.timestamp()
        switch format {
        case .json:
            let line = "{\"level\":\(Self.quote(name)),\"msg\":\(Self.quote(text)),\"time\":\(Self.quote(time))}\n"
            TextOutput.write(line, to: file)
        case .text:
            TextOutput.write("time=\(Self.quote(time)) level=\(name) msg=\(Self.quote(text))\n", to: file)
        }
    }

    /// The message on one line whatever it quotes: a config value may hold
    /// line breaks, NUL (which would cut the line short) or terminal escapes,
    /// and they are written as escapes instead. (--log quotes as JSON.)
    static func oneLine(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var line = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": line += "\\n"
            case "\r": line += "\\r"
            case _ where isControl(scalar): line += "\\u{\(String(scalar.value, radix: 16))}"
            default: line.unicodeScalars.append(scalar)
            }
        }
        return line
    }

    /// C0 controls but tab, DEL, and the Unicode line and paragraph breaks.
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        (scalar.value < 0x20 && scalar != "\t") || [0x7F, 0x85, 0x2028, 0x2029].contains(scalar.value)
    }

    static func quote(_ text: String) -> String {
        // As logrus quotes: "/" stays as it is.
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        let data = (try? encoder.encode(text)) ?? Data("\"\"".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    static func timestamp() -> String {
        var now = time(nil)
        var parts = tm()
        gmtime_r(&now, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%SZ", &parts)
        return String(nulTerminated: buffer)
    }
}

enum Log {
    // Set once by configure, read by every message: a Mutex proves it race-free.
    private static let current = Mutex(
        Logger(label: "vessel") { _ in
            Reporter(file: nil, format: .text, logLevel: .info)
        })
    static var logger: Logger { current.withLock { $0 } }

    static func configure(log: String?, format: LogFormat, debug: Bool) {
        let file = log.map { open($0, O_WRONLY | O_CREAT | O_APPEND, 0o666) }.flatMap { $0 >= 0 ? $0 : nil }
        let level: Logger.Level = debug ? .debug : .info
        current.withLock { $0 = Logger(label: "vessel") { _ in Reporter(file: file, format: format, logLevel: level) } }
        DebugTrace.sink = debug ? { @Sendable message in Log.logger.debug("\(message)") } : nil
    }
}
