// A path's components as the kernel would walk them, without touching the
// file system: "." and empty components dropped, ".." taking one off
// (clamped at the root). The one normalizer of the validator, InRoot and
// Cgroup. Joined by hand: the standard library's `joined(separator:)` on
// strings runs unspecialized and looks up its generic types by mangled name
// at every call, which the rootfs set-up made dozens of (issue "Speed").
public enum LexicalPath {
    public static func components(_ path: String) -> [Substring] {
        var parts: [Substring] = []
        for part in path.split(separator: "/") where part != "." {
            if part == ".." { _ = parts.popLast() } else { parts.append(part) }
        }
        return parts
    }

    /// The components joined by "/", without a leading one: "a/b", "" for the root.
    public static func relative(_ path: String) -> String { joined(components(path)[...]) }

    /// The components joined by "/", with a leading one: "/a/b", "/" for the root.
    public static func absolute(_ path: String) -> String { "/" + relative(path) }

    /// Concrete, not generic over Sequence: called from other modules, a
    /// generic one runs unspecialized and looks up its associated types.
    public static func joined(_ parts: ArraySlice<Substring>) -> String {
        var text = ""
        for part in parts {
            if !text.isEmpty { text.append("/") }
            text.append(contentsOf: part)
        }
        return text
    }
}
