import Errors
import OCI

// A pod's VM holds all its containers, so it is sized for the pod, not for
// the sandbox's own process: from the pod's resources where the engine
// gives them (CRI's sandbox annotations: containerd 1.7 and later write the
// sum of the containers' limits there), else vessel's own annotations, else
// the defaults.
extension GuestSize {
    static let sandboxMemory = "io.kubernetes.cri.sandbox-memory"
    static let sandboxCPUQuota = "io.kubernetes.cri.sandbox-cpu-quota"
    static let sandboxCPUPeriod = "io.kubernetes.cri.sandbox-cpu-period"
    public static let memoryAnnotation = "org.vessel.vm.memory-mib"
    public static let vcpusAnnotation = "org.vessel.vm.vcpus"
    /// Room for a few containers, and the kernel memory of the pod's exec
    /// slots (GuestPorts.podExecSlots).
    public static let podDefaultMemoryMiB = 512

    public static func forPod(_ spec: Spec, hostCPUs: Int) throws -> GuestSize {
        let annotations = spec.annotations ?? [:]
        var resources = Resources()
        if let memory = try number(annotations, sandboxMemory), memory > 0 {
            resources.memory = Resources.Memory(limit: memory)
        }
        if let quota = try number(annotations, sandboxCPUQuota), quota > 0 {
            let period = try number(annotations, sandboxCPUPeriod)
            resources.cpu = Resources.CPU(quota: quota, period: period.map { UInt64(max(0, $0)) })
        }
        var size = try from(resources, hostCPUs: hostCPUs)
        if resources.memory == nil {
            let mib = try number(annotations, memoryAnnotation) ?? Int64(podDefaultMemoryMiB)
            guard mib >= 64 else { throw VesselError.vmConfig("annotations[\(memoryAnnotation)]: \(mib) MiB is too small for a VM (at least 64)") }
            size.memoryMiB = Int(mib)
        }
        if resources.cpu == nil, let vcpus = try number(annotations, vcpusAnnotation) {
            guard vcpus >= 1 else { throw VesselError.vmConfig("annotations[\(vcpusAnnotation)]: must be at least 1") }
            size.vcpus = min(Int(vcpus), hostCPUs)
        }
        return size
    }

    private static func number(_ annotations: [String: String], _ key: String) throws -> Int64? {
        guard let text = annotations[key] else { return nil }
        guard let value = Int64(text) else { throw VesselError.vmConfig("annotations[\(key)]: \(text.debugDescription) is not a number") }
        return value
    }
}
