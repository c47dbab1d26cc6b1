import Errors
import FoundationEssentials
import Glibc
import Linux
import OSKit

/// --pid-file of create, run and exec. As runc (Go's filepath.Abs), a
/// relative path is taken from the caller's working directory and cleaned
/// lexically first, so `sub/../pid` needs no `sub`.
public enum PidFile {
    public static func write(_ path: String, pid: pid_t) throws {
        try FileIO.writeAtomically(absolute(path), Data("\(pid)".utf8))
    }

    static func absolute(_ path: String) throws -> String {
        guard !path.hasPrefix("/") else { return "/" + InRoot.normalized(path) }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { throw VesselError.system("--pid-file \(path): getcwd") }
        return "/" + InRoot.normalized(String(nulTerminated: buffer) + "/" + path)
    }
}
