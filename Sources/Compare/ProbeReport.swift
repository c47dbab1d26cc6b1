// What the probe (bundles/probe/probe.sh) saw from inside the container,
// parsed from its "key value" lines.
public struct ProbeReport: Codable, Sendable, Equatable {
    public var kernel = ""
    public var processes: [String] = []
    public var mounts = 0
    public var devEntries = 0
    public var sysEntries = 0
    public var keys = 0
    public var networkInterfaces: [String] = []
    /// /proc/self/status Seccomp: 0 none, 2 filter.
    public var seccompMode = ""
    public var effectiveCapabilities = ""

    public init() {}

    public init(output: String) {
        for line in output.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1)
            guard let key = parts.first else { continue }
            let value = parts.count > 1 ? String(parts[1]) : ""
            let number = Int(value.filter { $0 != " " }) ?? 0
            switch key {
            case "kernel": kernel = value
            case "process": processes.append(value.trimmingTrailingSpaces)
            case "mounts": mounts = number
            case "dev": devEntries = number
            case "sys": sysEntries = number
            case "keys": keys = number
            case "netif": networkInterfaces.append(value)
            case "seccomp": seccompMode = value
            case "capeff": effectiveCapabilities = value
            default: break
            }
        }
    }
}

extension String {
    var trimmingTrailingSpaces: String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
