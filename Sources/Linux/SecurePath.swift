import Glibc

// Resolves a path inside the container's root as if that root were "/":
// symlinks are followed but can never lead outside it (no `..` escapes, and
// absolute links restart at the root), as runc's securejoin does.
public enum SecurePath {
    public static func join(root: String, _ path: String) -> String {
        var resolved: [String] = []
        var pending = path.split(separator: "/").map(String.init).reversed() as [String]
        var linksFollowed = 0
        while let part = pending.popLast() {
            if part == "." || part.isEmpty { continue }
            if part == ".." {
                _ = resolved.popLast()
                continue
            }
            let candidate = root + "/" + (resolved + [part]).joined(separator: "/")
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX))
            let count = readlink(candidate, &buffer, buffer.count - 1)
            if count > 0 && linksFollowed < 255 {
                linksFollowed += 1
                let target = String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
                if target.hasPrefix("/") { resolved = [] }
                pending.append(contentsOf: target.split(separator: "/").map(String.init).reversed())
                continue
            }
            resolved.append(part)
        }
        return root + "/" + resolved.joined(separator: "/")
    }
}
