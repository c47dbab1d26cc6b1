extension String {
    /// The text of a C buffer up to its first NUL (all of it if it has
    /// none), decoded as UTF-8: what `String(cString:)` read from an array
    /// before Swift 6 deprecated that form.
    public init(nulTerminated buffer: [CChar]) {
        self.init(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
