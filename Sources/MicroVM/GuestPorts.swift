// The virtio-serial ports between host and guest, each bound on the host to
// a unix socket in the container's VM directory. Slot 0 carries the
// container's stdio; slots 1... carry the stdio of `exec` processes.
public enum GuestPorts {
    public static let control = "vessel.ctl"
    /// A pod's further containers each hold one for their life (QemuCommand
    /// raises virtio-serial's port count to fit).
    public static let execSlots = 9

    public enum Stream: String, CaseIterable, Sendable {
        case stdin = "in", stdout = "out", stderr = "err"
    }

    public static func name(slot: Int, _ stream: Stream) -> String { "vessel.\(slot).\(stream.rawValue)" }

    /// Every port's name, control first.
    public static var all: [String] {
        [control] + (0...execSlots).flatMap { slot in Stream.allCases.map { name(slot: slot, $0) } }
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
