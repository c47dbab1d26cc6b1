import OSKit
// The calling process's mounts, from /proc/self/mountinfo, in mount order.
public struct MountTable {
    struct Entry: Equatable {
        let mountPoint: String
        let type: String
    }

    /// The mount point `path` (absolute, symlinks resolved) lives on.
    static func mountPoint(containing path: String) -> String? {
        current().map(\.mountPoint)
            .filter { $0 == "/" || path == $0 || path.hasPrefix($0 + "/") }
            .max { $0.count < $1.count }
    }

    /// The mount points at or below `directory`, deepest first: the order
    /// in which to detach them.
    public static func mountPoints(under directory: String) -> [String] {
        current().map(\.mountPoint).filter { $0 == directory || $0.hasPrefix(directory + "/") }.sorted { $0.count > $1.count }
    }

    static func current() -> [Entry] {
        parse((try? FileIO.read("/proc/self/mountinfo")) ?? "")
    }

    /// Field 5 is the mount point (octal-escaped); the type follows " - ".
    static func parse(_ text: String) -> [Entry] {
        text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count > 6, let dash = fields[6...].firstIndex(of: "-"), dash + 1 < fields.count else { return nil }
            return Entry(mountPoint: unescape(fields[4]), type: String(fields[dash + 1]))
        }
    }

    /// mountinfo writes space, tab, newline and backslash as \ooo.
    static func unescape(_ field: Substring) -> String {
        var bytes: [UInt8] = []
        var utf8 = Array(field.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "\\"), utf8.count >= 3,
                let value = UInt8(String(decoding: utf8.prefix(3), as: UTF8.self), radix: 8)
            {
                bytes.append(value)
                utf8 = utf8.dropFirst(3)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
