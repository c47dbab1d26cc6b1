import Linux
import OSKit

// What the host itself says, read by vessel compare on the host, to tell
// whether a value the probe learned from inside is the host's.
public struct HostFacts: Codable, Sendable, Equatable {
    public var kernel: String
    public var cpuModel: String
    public var interfaces: [String]
    /// vessel compare's own network namespace: "net:[4026531840]".
    public var networkNamespace: String
    /// The host's uptime just before and just after the probe ran.
    public var uptimeBefore: Double
    public var uptimeAfter: Double

    static func read(kernel: String) -> HostFacts {
        HostFacts(
            kernel: kernel, cpuModel: cpuModel(), interfaces: interfaces(),
            networkNamespace: (try? FileIO.readLink("/proc/self/ns/net")) ?? "", uptimeBefore: uptime(), uptimeAfter: uptime())
    }

    static func cpuModel() -> String {
        let text = (try? FileIO.read("/proc/cpuinfo")) ?? ""
        for line in text.split(separator: "\n") where line.hasPrefix("model name") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            return String(line[line.index(after: colon)...].drop { $0 == " " || $0 == "\t" })
        }
        return ""
    }

    /// The interfaces of vessel compare's own network namespace, the host's
    /// where it runs on the host (PID 1's need not be readable).
    static func interfaces() -> [String] {
        let text = (try? FileIO.read("/proc/self/net/dev")) ?? ""
        return text.split(separator: "\n").compactMap { line in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            let name = line[line.startIndex..<colon]
            return String(name.drop(while: { $0 == " " }))
        }
    }

    static func uptime() -> Double {
        let text = (try? FileIO.read("/proc/uptime")) ?? ""
        return Double(text.split(separator: " ").first ?? "") ?? 0
    }
}
