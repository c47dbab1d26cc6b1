import Errors
import Glibc
import Linux
import MicroVM
import OCI
import OSKit

// Which VM-mode containers are pod sandboxes, and which join one. A
// sandbox is what CRI marks as one (or the config's org.vessel.vm.pod
// annotation); a later VM-mode container joins it when it names the
// sandbox's namespaces by path (/proc/<sandbox pid>/ns/..., or the pod's
// network namespace), or when CRI's sandbox-id annotation names it.
enum VMPod {
    static let podAnnotation = "org.vessel.vm.pod"
    static let containerTypeAnnotations = ["io.kubernetes.cri.container-type", "io.kubernetes.cri-o.ContainerType"]
    static let sandboxIDAnnotations = ["io.kubernetes.cri.sandbox-id", "io.kubernetes.cri-o.SandboxID"]

    static func isSandbox(_ spec: Spec) -> Bool {
        let annotations = spec.annotations ?? [:]
        return annotations[podAnnotation] == "sandbox" || containerTypeAnnotations.contains { annotations[$0] == "sandbox" }
    }

    /// The live pod sandbox `spec` joins, if any; a stopped one is an error.
    static func sandbox(joinedBy spec: Spec, id: ContainerID, store: StateStore) throws -> ContainerRecord? {
        let annotations = spec.annotations ?? [:]
        let named = sandboxIDAnnotations.compactMap { annotations[$0] }.filter { $0 != id.value }
        let pids = Set((spec.linux?.namespaces ?? []).compactMap { $0.path.flatMap(procPID) })
        guard !named.isEmpty || !pids.isEmpty else { return nil }
        let candidates = named.isEmpty ? store.ids().filter { $0 != id.value } : named
        for name in candidates {
            guard let candidate = try? ContainerID(name), let record = try? store.load(candidate),
                record.vm?.podSandbox == true, named.contains(name) || pids.contains(record.pid)
            else { continue }
            let status = store.status(of: record)
            guard status == .created || status == .running else {
                throw VesselError.vmConfig("pod sandbox \(name) is \(status.rawValue): its VM cannot take another container")
            }
            return record
        }
        return nil
    }

    /// Whether a namespace given by path is the sandbox's: its supervisor's
    /// /proc entry, or (the network) the namespace the supervisor runs in.
    static func isShared(_ namespace: Namespace, withSandbox pid: pid_t) -> Bool {
        guard let path = namespace.path else { return false }
        if path == "/proc/\(pid)/ns/\(namespace.type.procName)" { return true }
        guard namespace.type == .network, let identity = MirrorRecord.identity(ofPath: path) else { return false }
        return identity == MirrorRecord.identity(ofPath: "/proc/\(pid)/ns/net")
    }

    /// 1234 in /proc/1234/ns/ipc.
    static func procPID(_ path: String) -> pid_t? {
        let parts = path.split(separator: "/")
        guard parts.count == 4, parts[0] == "proc", parts[2] == "ns" else { return nil }
        return pid_t(parts[1])
    }
}
