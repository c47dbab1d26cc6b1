// QEMU's command line for a template and its clones: the container's own
// (same machine, devices and kernel command line, which is what lets a
// saved guest be restored), with the guest's RAM in a file and a QMP socket
// to save or load the machine's state through.
extension QemuCommand {
    public static let qmpSocketName = "qmp.sock"
    static let memoryBackendID = "vessel-ram"

    /// The guest's RAM in `memoryFile`: the template's own (`shared`: the
    /// guest writes the file, which then holds its memory once saved), or a
    /// clone's private copy-on-write mapping of it, which never writes the
    /// file back. `incoming`: wait for the machine's state on QMP.
    public func arguments(memoryFile: String, shared: Bool, incoming: Bool) -> [String] {
        let qmp = (socketDirectory ?? directory) + "/" + Self.qmpSocketName
        var arguments =
            self.arguments + [
                "-object",
                "memory-backend-file,id=\(Self.memoryBackendID),size=\(size.memoryMiB)M,"
                    + "mem-path=\(Self.escaped(memoryFile)),share=\(shared ? "on" : "off")",
                "-M", "memory-backend=\(Self.memoryBackendID)",
                "-qmp", "unix:\(Self.escaped(qmp)),server=on,wait=off",
            ]
        if incoming { arguments += ["-incoming", "defer"] }
        return arguments
    }

    /// The command with the per-container parts (its directory, the host
    /// paths of its shares, whether a share is read-only, which only QEMU's
    /// side enforces, its taps' descriptors) replaced by fixed words: what
    /// a template must match.
    var shape: QemuCommand {
        var shape = self
        shape.directory = "@vm"
        shape.socketDirectory = nil
        shape.shares = shares.map { Share(tag: $0.tag, hostPath: "@share", readOnly: false) }
        shape.taps = taps.map { Tap(fd: -1, mac: $0.mac) }
        return shape
    }
}
