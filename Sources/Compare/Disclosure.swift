import OCI

// One thing the workload can learn about the machine it runs on, and
// whether what it learned is the host's (checked against HostFacts).
public struct Disclosure: Codable, Sendable, Equatable {
    public var fact: String
    /// The kernel that answered: "host" or "guest".
    public var kernel: String
    public var value: String
    /// Whether the value is the host's own.
    public var revealsHost: Bool
    public var reason: String

    /// The five facts, from a probe's report in one mode.
    static func all(_ probe: ProbeReport, kernel: String, host: HostFacts, namespaces: Set<NamespaceType>) -> [Disclosure] {
        let inGuest = kernel == "guest"
        func fact(_ name: String, _ value: String, _ revealsHost: Bool, _ reason: String) -> Disclosure {
            Disclosure(fact: name, kernel: kernel, value: value, revealsHost: revealsHost, reason: reason)
        }
        let sameKernel = probe.kernel == host.kernel && !inGuest
        let sameCPU = !probe.cpuModel.isEmpty && probe.cpuModel == host.cpuModel
        let uptime = probe.uptimeSeconds ?? -1
        let hostUptime = uptime >= host.uptimeBefore - 1 && uptime <= host.uptimeAfter + 1
        let interfaces = probe.networkInterfaces
        // The same network namespace as vessel compare's settles it; names alone would match an engine's eth0.
        let hostInterfaces = !inGuest && !probe.networkNamespace.isEmpty && probe.networkNamespace == host.networkNamespace
        let cgroups = probe.otherCgroups
        return [
            fact("kernel version", probe.kernel, sameKernel, sameKernel ? "the host's kernel release" : "the guest kernel's release, not the host's"),
            fact(
                "CPU model", probe.cpuModel.isEmpty ? "unknown" : probe.cpuModel, sameCPU,
                sameCPU ? "the host's CPU model" : (inGuest ? "the VM's virtual CPU, not the host's" : "not the host's CPU model")),
            fact(
                "uptime", probe.uptimeSeconds.map { Comparison.duration($0) } ?? "unknown", hostUptime,
                hostUptime
                    ? "the host's uptime: when it booted"
                    : (inGuest ? "the guest's uptime, not the host's" : (namespaces.contains(.time) ? "offset by the time namespace" : "not the host's uptime"))),
            fact(
                "other tenants' cgroups", cgroups == 0 ? "none" : "\(cgroups) (e.g. \(probe.otherCgroupSample.joined(separator: ", ")))",
                cgroups > 0 && !inGuest,
                cgroups > 0
                    ? (inGuest ? "the guest's own cgroups, no other tenant's" : "other cgroups of the host's hierarchy are visible")
                    : (namespaces.contains(.cgroup) ? "the cgroup namespace shows only its own" : "none visible")),
            fact(
                "network interfaces", interfaces.isEmpty ? "none" : interfaces.joined(separator: ", "), hostInterfaces,
                hostInterfaces
                    ? "the host's interfaces"
                    : (interfaces == ["lo"]
                        ? (inGuest ? "loopback only: the VM has no network device" : "loopback only: the network namespace hides the host's")
                        : (inGuest ? "the VM's own virtual interfaces" : "its own, not the host's"))),
        ]
    }
}
