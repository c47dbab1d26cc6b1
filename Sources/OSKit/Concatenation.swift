// `joined(separator:)` for [String], written out. The standard library's
// runs unspecialized, and the first call in a process looks up Array's
// BidirectionalCollection conformance by scanning every conformance record
// of the binary; the rootfs set-up (mount data) and create called it on
// every run, at a few microseconds each (issue "Speed").
extension Array where Element == String {
    public func concatenated(separator: String) -> String {
        var text = ""
        for (index, element) in enumerated() {
            if index > 0 { text.append(separator) }
            text.append(element)
        }
        return text
    }
}
