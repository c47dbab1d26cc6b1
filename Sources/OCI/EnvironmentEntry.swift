// One `KEY=value` of process.env (or `exec --env`), as runc takes it: the
// name is what comes before the first "=", and must not be empty; no NUL
// anywhere, since execve's strings end at one.
public enum EnvironmentEntry {
    /// Why `entry` cannot be put in a process's environment; nil when it can.
    public static func problem(_ entry: String) -> String? {
        guard let equals = entry.firstIndex(of: "=") else { return "\(entry.debugDescription) is not KEY=value" }
        if equals == entry.startIndex { return "\(entry.debugDescription) has an empty name" }
        if entry.contains("\0") { return "\(entry.debugDescription) contains a NUL byte" }
        return nil
    }

    /// The name: what comes before the first "=" (the whole entry without one).
    public static func name(_ entry: String) -> Substring {
        entry.firstIndex(of: "=").map { entry[..<$0] } ?? entry[...]
    }

    /// One entry per name, as setenv(3) one after the other leaves them:
    /// the last value, at the place where the name first came.
    public static func merged(_ env: [String]) -> [String] {
        var result: [String] = []
        var position: [Substring: Int] = [:]
        for entry in env {
            let key = name(entry)
            if let index = position[key] {
                result[index] = entry
            } else {
                position[key] = result.count
                result.append(entry)
            }
        }
        return result
    }
}
