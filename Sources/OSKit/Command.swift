import Errors
import CVessel
import Glibc

// A helper program run to completion with its stdout captured (ldd, for
// the initramfs), spawned through the C shim like every other process.
public enum Command {
    public static func output(_ path: String, _ arguments: [String]) throws -> String {
        let request = SpawnRequest(path: path, arguments: [path] + arguments, environment: ["PATH=/usr/bin:/bin"])
        let (pid, stdout) = try Spawner.spawn(request, pipe: .fromChild) { $0.stdio = (-1, $1, -1) }
        let bytes = (try? FileIO.readAll(stdout, name: path)) ?? []
        close(stdout)
        let code = Spawner.exitCode(fromWaitStatus: Spawner.wait(pid))
        guard code == 0 else { throw VesselError.setup("\(path) \(arguments.joined(separator: " ")) exited with status \(code)") }
        return String(decoding: bytes, as: UTF8.self)
    }
}
