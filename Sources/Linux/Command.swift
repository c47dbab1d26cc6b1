import CVessel
import Glibc

// A helper program run to completion with its stdout captured (ldd, for
// the initramfs), spawned through the C shim like every other process.
public enum Command {
    public static func output(_ path: String, _ arguments: [String]) throws -> String {
        var pipeFDs: [Int32] = [0, 0]
        guard vessel_pipe(&pipeFDs) == 0 else { throw SystemError("pipe") }
        var request = SpawnRequest(path: path, arguments: [path] + arguments, environment: ["PATH=/usr/bin:/bin"])
        request.stdio = (-1, pipeFDs[1], -1)
        let pid: pid_t
        do {
            pid = try Spawner.spawn(request)
        } catch {
            close(pipeFDs[0])
            close(pipeFDs[1])
            throw error
        }
        close(pipeFDs[1])
        let bytes = (try? FileIO.readAll(pipeFDs[0], name: path)) ?? []
        close(pipeFDs[0])
        let code = Spawner.exitCode(fromWaitStatus: Spawner.wait(pid))
        guard code == 0 else { throw SetupError("\(path) \(arguments.joined(separator: " ")) exited with status \(code)") }
        return String(decoding: bytes, as: UTF8.self)
    }
}
