// One step of a boundary probe as bundles/probe/boundary.c printed it:
// "try PROBE STEP SYSCALL RESULT DETAIL", RESULT being ok, errno=N,
// signal=N, masked or skipped.
public struct ProbeStep: Codable, Sendable, Equatable {
    public enum Result: String, Codable, Sendable {
        case ok, errno, signal, masked, skipped
    }

    public var probe: String
    public var step: String
    public var syscall: String
    public var result: Result
    /// The errno or signal number.
    public var code: Int32?
    /// The errno's or signal's name, or what the step did or why it was skipped.
    public var detail: String

    public init(probe: String, step: String, syscall: String, result: Result, code: Int32? = nil, detail: String = "") {
        self.probe = probe
        self.step = step
        self.syscall = syscall
        self.result = result
        self.code = code
        self.detail = detail
    }

    /// Parses the part after "try "; nil for a line of another shape.
    init?(line: Substring) {
        let fields = line.split(separator: " ", maxSplits: 4, omittingEmptySubsequences: true)
        guard fields.count >= 4 else { return nil }
        probe = String(fields[0])
        step = String(fields[1])
        syscall = String(fields[2])
        detail = fields.count > 4 ? String(fields[4]) : ""
        let token = fields[3]
        if let equals = token.firstIndex(of: "=") {
            guard let kind = Result(rawValue: String(token[..<equals])), kind == .errno || kind == .signal,
                let number = Int32(token[token.index(after: equals)...])
            else { return nil }
            result = kind
            code = number
        } else {
            guard let kind = Result(rawValue: String(token)), kind != .errno, kind != .signal else { return nil }
            result = kind
        }
    }
}
