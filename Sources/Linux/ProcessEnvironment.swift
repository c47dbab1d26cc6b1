import OSKit
import OCI

// The environment the container's process starts with: process.env with
// one entry per name (the last value wins, as runc's setenv one by one
// leaves it), plus HOME from the container's /etc/passwd when env has none
// or an empty one (runc's rule: the user's home directory, "/" when the
// uid has no entry).
enum ProcessEnvironment {
    static func withHome(_ env: [String], uid: UInt32, passwd: () -> String?) -> [String] {
        var merged = EnvironmentEntry.merged(env)
        let index = merged.firstIndex { EnvironmentEntry.name($0) == "HOME" }
        if let index, merged[index] != "HOME=" { return merged }
        let home = "HOME=" + (home(of: uid, in: passwd() ?? "") ?? "/")
        if let index { merged[index] = home } else { merged.append(home) }
        return merged
    }

    /// The home field of the first passwd line whose uid is `uid`.
    static func home(of uid: UInt32, in passwd: String) -> String? {
        for line in passwd.split(separator: "\n") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count >= 6, UInt32(fields[2]) == uid else { continue }
            return fields[5].isEmpty ? nil : String(fields[5])
        }
        return nil
    }

    /// HOME for a process about to exec in the container (after pivot_root,
    /// so /etc/passwd is the container's).
    static func resolve(_ process: Process) -> [String] {
        withHome(process.env ?? [], uid: process.user.uid) { try? FileIO.read("/etc/passwd") }
    }
}
