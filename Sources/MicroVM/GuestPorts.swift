// The virtio-serial ports between host and guest, each bound on the host to
// a unix socket in the container's VM directory. Slot 0 carries the
// container's stdio; slots 1... carry the stdio of `exec` processes.
public enum GuestPorts {
    public static let control = "vessel.ctl"
    /// Exec slots of a VM. Each port costs the guest about 4 MiB of kernel
    /// memory (virtio-console fills its whole queue with page buffers), so
    /// only a pod sandbox's VM, whose further containers each hold a slot
    /// for their life, has more; the agent learns the count from the
    /// kernel command line (`kernelArgument`).
    public static let defaultExecSlots = 4
    public static let podExecSlots = 8
    static let kernelArgument = "vessel.slots="

    public enum Stream: String, CaseIterable, Sendable {
        case stdin = "in", stdout = "out", stderr = "err"
    }

    public static func name(slot: Int, _ stream: Stream) -> String { "vessel.\(slot).\(stream.rawValue)" }

    /// Every port's name, control first.
    public static func all(execSlots: Int) -> [String] {
        [control] + (0...execSlots).flatMap { slot in Stream.allCases.map { name(slot: slot, $0) } }
    }

    /// The exec slot count a guest kernel command line gives.
    public static func execSlots(kernelCommandLine: String) -> Int {
        let given = kernelCommandLine.split(whereSeparator: \.isWhitespace).first { $0.hasPrefix(kernelArgument) }
        return given.flatMap { Int($0.dropFirst(kernelArgument.count)) }.map { max(1, min($0, 32)) } ?? defaultExecSlots
    }

    /// The name of a port's host socket in the VM directory.
    public static func fileName(_ port: String) -> String {
        port.replacing("vessel.", with: "") + ".sock"
    }

    /// The host socket of a port inside the VM directory.
    public static func socket(_ port: String, in directory: String) -> String {
        directory + "/" + fileName(port)
    }
}
