// What the probe (bundles/probe: probe.sh and boundary.c) saw and tried
// from inside the container, parsed from its "key value" lines.
public struct ProbeReport: Codable, Sendable, Equatable {
    public var kernel = ""
    public var processes: [String] = []
    public var mounts = 0
    public var devEntries = 0
    public var sysEntries = 0
    public var keys = 0
    public var networkInterfaces: [String] = []
    /// readlink /proc/self/ns/net: "net:[4026531840]".
    public var networkNamespace = ""
    /// /proc/self/status Seccomp: 0 none, 2 filter.
    public var seccompMode = ""
    public var effectiveCapabilities = ""
    /// The first "model name" of /proc/cpuinfo.
    public var cpuModel = ""
    /// The first field of /proc/uptime, in seconds.
    public var uptimeSeconds: Double?
    /// Cgroups visible besides the probe's own, its ancestors and descendants.
    public var otherCgroups = 0
    public var otherCgroupSample: [String] = []
    /// The kernel policies (sysctls) that decide several probes, as the
    /// answering kernel has them ("absent" where it has no such knob).
    public var sysctls: [String: String] = [:]
    public var steps: [ProbeStep] = []

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
            case "netns": networkNamespace = value
            case "seccomp": seccompMode = value
            case "capeff": effectiveCapabilities = value
            case "cpu": cpuModel = value
            case "uptime": uptimeSeconds = Double(value)
            case "cgroups":
                let words = value.split(separator: " ").map(String.init)
                otherCgroups = words.first.flatMap { Int($0) } ?? 0
                otherCgroupSample = Array(words.dropFirst())
            case "sysctl":
                let pair = value.split(separator: " ", maxSplits: 1)
                if let name = pair.first { sysctls[String(name)] = pair.count > 1 ? String(pair[1]) : "" }
            case "try":
                if parts.count > 1, let step = ProbeStep(line: parts[1]) { steps.append(step) }
            default: break
            }
        }
    }

    /// The steps of one probe, in the order they ran.
    func steps(of probe: String) -> [ProbeStep] { steps.filter { $0.probe == probe } }
}

extension String {
    var trimmingTrailingSpaces: String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
