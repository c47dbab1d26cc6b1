import Errors
import CVessel
import Glibc
import MicroVM
import OSKit

// An exec slot's stdio in the guest. Only the agent ever opens a slot's
// ports: the process gets pipes (or a pty) that the agent relays to them.
// A virtio-serial port can be open once at a time, so a process holding
// them (or a child it left behind) would make the next exec in the slot
// fail with EBUSY; this way they are free as soon as the process has
// exited and `finish` ran, whatever it left running.
final class SlotStreams {
    let relay: StdioRelay
    /// The guest pty's master for a terminal slot (resizes go there), or -1.
    let master: Int32
    /// The ports: the relay never closes them (it closes its other fds
    /// itself at EOF, and `ownedFDs` lists those it still holds).
    private let ports: [Int32]

    private init(relay: StdioRelay, master: Int32, ports: [Int32]) {
        self.relay = relay
        self.master = master
        self.ports = ports
    }

    /// Pipes between the ports and the process; returns the process's ends
    /// (for its fds 0-2), which the caller closes once it is spawned.
    static func pipes(ports: (stdin: Int32, stdout: Int32, stderr: Int32)) throws -> (SlotStreams, child: [Int32]) {
        let input = try pipe(), output = try pipe(), error = try pipe()
        // A process that does not read its stdin blocks the agent's writes
        // once the pipe is full: give it room.
        _ = fcntl(input.write, Self.setPipeSize, 1 << 20)
        let relay = StdioRelay(
            input: (ports.stdin, input.write),
            outputs: [(output.read, ports.stdout), (error.read, ports.stderr)])
        let streams = SlotStreams(relay: relay, master: -1, ports: [ports.stdin, ports.stdout, ports.stderr])
        return (streams, [input.read, output.write, error.write])
    }

    /// A terminal: the pty master both ways, the slot's in and out ports.
    static func terminal(master: Int32, stdinPort: Int32, stdoutPort: Int32) -> SlotStreams {
        SlotStreams(
            relay: StdioRelay(input: (stdinPort, master), outputs: [(master, stdoutPort)]),
            master: master, ports: [stdinPort, stdoutPort])
    }

    /// After the process exited: what it wrote goes out first (bounded: a
    /// child it left may write forever), then every fd closes, the ports
    /// with them.
    func finish() {
        var rounds = 0
        while rounds < 256 && relay.drain() { rounds += 1 }
        (Set(ports).union(relay.ownedFDs)).forEach { close($0) }
    }

    private static let setPipeSize: Int32 = 1031  // F_SETPIPE_SZ

    private static func pipe() throws -> (read: Int32, write: Int32) {
        var ends: [Int32] = [-1, -1]
        guard vessel_pipe(&ends) == 0 else { throw VesselError.system("pipe") }
        return (ends[0], ends[1])
    }
}
