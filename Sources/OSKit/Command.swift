import Errors
import CVessel
import Glibc

// A helper program run to completion (ldd for the initramfs, newuidmap for
// a rootless user namespace), spawned through the C shim like every other
// process.
public enum Command {
    /// Runs `path` and returns its stdout; a non-zero exit is an error.
    public static func output(_ path: String, _ arguments: [String]) throws -> String {
        let (code, stdout) = try capturing(path, arguments, stream: 1)
        guard code == 0 else { throw VesselError.setup("\(path) \(arguments.joined(separator: " ")) exited with status \(code)") }
        return String(decoding: stdout, as: UTF8.self)
    }

    /// Runs `path`; a non-zero exit is an error ending with the last line
    /// the program wrote on stderr, which says why.
    public static func run(_ path: String, _ arguments: [String]) throws(VesselError) {
        let (code, stderr) = try capturing(path, arguments, stream: 2)
        guard code != 0 else { return }
        let said = String(decoding: stderr, as: UTF8.self).split(whereSeparator: \.isNewline).last.map { ": " + $0 } ?? ""
        throw VesselError.setup("\(path) \(arguments.joined(separator: " ")) exited with status \(code)\(said)")
    }

    /// Runs `path` to its end with one of stdout (1) or stderr (2) read.
    private static func capturing(_ path: String, _ arguments: [String], stream: Int32) throws(VesselError) -> (code: Int32, bytes: [UInt8]) {
        let request = SpawnRequest(path: path, arguments: [path] + arguments, environment: ["PATH=/usr/bin:/bin"])
        let (pid, fd) = try Spawner.spawn(request, pipe: .fromChild) { request, end in
            request.stdio = stream == 1 ? (-1, end, -1) : (-1, -1, end)
        }
        let bytes = (try? FileIO.readAll(fd, name: path)) ?? []
        close(fd)
        return (Spawner.exitCode(fromWaitStatus: Spawner.wait(pid)), bytes)
    }

    /// A program name found on PATH (then /usr/bin, /usr/local/bin), as
    /// execve needs a path; nil when there is none.
    public static func find(_ program: String) -> String? {
        let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/bin:/bin"
        for directory in (path + ":/usr/bin:/usr/local/bin").split(separator: ":") where access("\(directory)/\(program)", X_OK) == 0 {
            return "\(directory)/\(program)"
        }
        return nil
    }
}
