import OSKit
import Errors
import Glibc

// Finds process.args[0] as execvp would, with the container's own PATH, so a
// missing program fails `create` (or `exec`) instead of surfacing after
// `start`. `field` names where the program came from in the error line:
// config.json's process for the init, the command line or --process for exec.
enum ExecutableLookup {
    static let initField = "config.json: process.args"
    static let execField = "exec: process.args"

    static func find(_ name: String, env: [String], cwd: String, field: String = initField) throws(VesselError) -> String {
        guard !name.isEmpty else { throw VesselError.setup("\(field): empty program name") }
        if name.contains("/") {
            let path = name.hasPrefix("/") ? name : cwd + "/" + name
            guard access(path, X_OK) == 0 else {
                throw VesselError.setup("\(field)[0]: \(name) cannot be executed: \(VesselError.system("access").reason)")
            }
            // A directory passes access(X_OK) (search); execve would refuse it
            // after `start`. Refused now, as runc's lookup does.
            var st = stat()
            guard stat(path, &st) == 0, (st.st_mode & S_IFMT) != S_IFDIR else {
                throw VesselError.setup("\(field)[0]: \(name) cannot be executed: it is a directory")
            }
            return path
        }
        let pathVariable =
            env.last { $0.hasPrefix("PATH=") }.map { String($0.dropFirst(5)) }
            ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        for directory in pathVariable.split(separator: ":") {
            // String's own + (a Substring operand picks a generic one).
            let candidate = String(directory) + "/" + name
            var st = stat()
            if stat(candidate, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG && access(candidate, X_OK) == 0 {
                return candidate
            }
        }
        throw VesselError.setup("\(field)[0]: executable \(name.debugDescription) not found in $PATH (\(pathVariable))")
    }
}
