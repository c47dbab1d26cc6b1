import FoundationEssentials
import Glibc
import Logging

// Where messages go: one line on stderr for the operator, and the same line
// in --log (runc's JSON shape with --log-format json) for the engine.
struct Reporter: LogHandler {
    let file: UnsafeMutablePointer<FILE>?
    let format: LogFormat
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let text = "\(event.message)"
        // With --log (as engines call it), warnings go to the log only, as
        // runc's do: an engine may have given us the container's stderr.
        if event.level >= .error || (event.level == .warning && file == nil) || logLevel <= .debug {
            fputs("vessel: \(event.level == .error ? "" : "\(event.level): ")\(text)\n", stderr)
        }
        guard let file else { return }
        let level = event.level == .warning ? "warning" : "\(event.level)"
        let time = Self.timestamp()
        switch format {
        case .json:
            let line = "{\"level\":\(Self.quote(level)),\"msg\":\(Self.quote(text)),\"time\":\(Self.quote(time))}\n"
            fputs(line, file)
        case .text:
            fputs("time=\(Self.quote(time)) level=\(level) msg=\(Self.quote(text))\n", file)
        }
        fflush(file)
    }

    static func quote(_ text: String) -> String {
        let data = (try? JSONEncoder().encode(text)) ?? Data("\"\"".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    static func timestamp() -> String {
        var now = time(nil)
        var parts = tm()
        gmtime_r(&now, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%SZ", &parts)
        return String(cString: buffer)
    }
}

enum Log {
    nonisolated(unsafe) static var logger = Logger(label: "vessel") { _ in
        Reporter(file: nil, format: .text, logLevel: .info)
    }

    static func configure(log: String?, format: LogFormat, debug: Bool) {
        let file = log.flatMap { fopen($0, "a") }
        let level: Logger.Level = debug ? .debug : .info
        logger = Logger(label: "vessel") { _ in Reporter(file: file, format: format, logLevel: level) }
    }
}
