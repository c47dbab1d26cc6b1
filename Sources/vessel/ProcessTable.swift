import Errors
import Glibc
import Linux
import OSKit
import Runtime

// `vessel ps <id> [ps options]`, as runc does it: ps(1) runs on the host
// with the given options, and its rows are kept when their PID column is a
// process of the container; the header stays.
enum ProcessTable {
    static func render(options: [String], keeping pids: Set<Int32>) throws -> String {
        let candidates: [String] = ["/usr/bin/ps", "/bin/ps"]
        guard let ps = candidates.first(where: { FileIO.exists($0) }) else {
            throw VesselError.unsupported("ps: no ps(1) on this host (install procps)")
        }
        let output = try Command.output(ps, options)
        var lines = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        guard let header = lines.first else { return "" }
        guard let column = header.split(separator: " ").firstIndex(of: "PID") else {
            throw VesselError.invalidArgument("ps: the output of ps \(options.joined(separator: " ")) has no PID column")
        }
        let rows = lines.dropFirst().filter { line in
            let fields = line.split(separator: " ")
            return column < fields.count && Int32(fields[column]).map(pids.contains) == true
        }
        return ([header] + rows).map { $0 + "\n" }.joined()
    }
}
