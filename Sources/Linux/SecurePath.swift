import Glibc

// Resolves a path inside the container's root as if that root were "/":
// symlinks are followed but can never lead outside it (no `..` escapes, and
// absolute links restart at the root), as runc's securejoin does.
public enum SecurePath {
    public static func join(root: String, _ path: String) -> String {
        var resolved: [String] = []
        // The byte length of root + "/" + resolved joined by "/". A longer
        // candidate than PATH_MAX cannot be a symlink (readlink fails with
        // ENAMETOOLONG), so it is not built: a 64 KiB path costs linear
        // time instead of quadratic (tens of seconds).
        var length = root.utf8.count
        var pending = path.split(separator: "/").map(String.init).reversed() as [String]
        var linksFollowed = 0
        while let part = pending.popLast() {
            if part == "." || part.isEmpty { continue }
            if part == ".." {
                if let last = resolved.popLast() { length -= 1 + last.utf8.count }
                continue
            }
            if length + 1 + part.utf8.count < Int(PATH_MAX) {
                let candidate = root + "/" + (resolved + [part]).joined(separator: "/")
                var buffer = [CChar](repeating: 0, count: Int(PATH_MAX))
                let count = readlink(candidate, &buffer, buffer.count - 1)
                if count > 0 && linksFollowed < 255 {
                    linksFollowed += 1
                    let target = String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
                    if target.hasPrefix("/") {
                        resolved = []
                        length = root.utf8.count
                    }
                    pending.append(contentsOf: target.split(separator: "/").map(String.init).reversed())
                    continue
                }
            }
            resolved.append(part)
            length += 1 + part.utf8.count
        }
        return root + "/" + resolved.joined(separator: "/")
    }
}
