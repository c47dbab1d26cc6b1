import CVessel
import Errors
import FoundationEssentials
import Glibc
import OSKit

// Makes a template: boots the container's VM shape (same QEMU command line,
// with empty directories for its shares and the guest's RAM in a file QEMU
// shares) until the agent is up and waiting, with no share mounted (QEMU
// refuses to save a guest that has one), then stops it and saves its state.
// Made in a staging directory and installed whole by TemplateStore.
public struct TemplateBuilder {
    let store: TemplateStore
    let key: TemplateKey
    /// The command of a container of this shape (its directory and share
    /// paths are not used).
    let command: QemuCommand
    let bootTimeoutSeconds: Int

    public init(store: TemplateStore, key: TemplateKey, command: QemuCommand, bootTimeoutSeconds: Int) {
        self.store = store
        self.key = key
        self.command = command
        self.bootTimeoutSeconds = bootTimeoutSeconds
    }

    /// A restored guest never reads its kernel or initrd again, but QEMU
    /// wants the options to build the same machine: clones get this stub
    /// instead of the initramfs (which the initramfs cache may prune, and
    /// which QEMU would otherwise map in every clone).
    static let stub = Data("vessel: a guest restored from a template does not read its initrd\n".utf8)

    public func build() throws {
        let started = SystemClock.now()
        let staging = store.directory + "/.build-\(key.hash)-\(getpid())"
        FileIO.removeTree(staging)
        try FileIO.makeDirectories(staging + "/empty", mode: 0o700)
        var installed = false
        defer { if !installed { FileIO.removeTree(staging) } }
        let sockets = try SocketDirectory(staging)
        let deadline = started + Double(bootTimeoutSeconds)

        var shaped = command
        shaped.directory = staging
        shaped.shares = command.shares.map { QemuCommand.Share(tag: $0.tag, hostPath: staging + "/empty", readOnly: false) }
        let memoryFile = staging + "/" + TemplateStore.memoryFile
        // Network devices need a tap behind them while the template boots:
        // taps of its own, gone with this QEMU (the container's take their
        // places in each clone).
        let taps = try Self.makeTaps(count: command.taps.count)
        defer { taps.forEach { close($0) } }
        let qemu = try QemuProcess.spawn(in: sockets, inheriting: taps) { socketDirectory, fds in
            shaped.socketDirectory = socketDirectory
            shaped.taps = zip(fds, command.taps).map { QemuCommand.Tap(fd: $0, mac: $1.mac) }
            return shaped.arguments(memoryFile: memoryFile, shared: true, incoming: false)
        }
        defer { qemu.kill() }
        // Connected until QEMU is gone: a guest whose host end closes sees
        // EOF on its control port and powers off.
        let control = MessageChannel(fd: try qemu.connect(GuestPorts.fileName(GuestPorts.control), until: deadline))
        defer { control.close() }
        let first = try qemu.awaitAgent(
            on: control, until: deadline, seconds: bootTimeoutSeconds,
            what: "the template's guest agent did not start")
        guard case let .event(.ready(kernel, _)) = first else {
            throw VesselError.guest("the template's guest agent sent \(first) before it was ready")
        }
        // The guest booted: from here a failure is the template's own, and
        // is remembered (TemplateStore.markFailed), not retried per create.
        do {
            let qmp = try QMPClient(fd: try qemu.connect(QemuCommand.qmpSocketName, until: deadline), until: deadline)
            unlink(staging + "/" + QemuCommand.qmpSocketName)  // no one else reaches QEMU's monitor
            let state = open(staging + "/" + TemplateStore.stateFile, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o400)
            guard state >= 0 else { throw VesselError.system("create \(staging)/\(TemplateStore.stateFile)") }
            defer { close(state) }
            try qmp.saveState(to: state, until: SystemClock.now() + 30)
        } catch {
            store.markFailed(key, reason: "\(error)")
            throw error
        }
        qemu.kill()
        try finish(staging, kernel: kernel, seconds: SystemClock.now() - started)
        try store.install(staging, as: key.hash)
        installed = true
        store.prune(keeping: key.hash)
    }

    static func makeTaps(count: Int) throws -> [Int32] {
        var taps: [Int32] = []
        do {
            for index in 0..<count {
                let name = "vtpl\(getpid() % 1_000_000)-\(index)"
                taps.append(try sysNegative("create tap \(name) for a template's network device", vessel_tap_open(name, 1, nil)))
            }
        } catch {
            taps.forEach { close($0) }
            throw error
        }
        return taps
    }

    /// The stub, template.json, the RAM file read-only; QEMU's sockets and
    /// the empty share directory go.
    private func finish(_ staging: String, kernel: String, seconds: Double) throws {
        try FileIO.writeAtomically(staging + "/" + TemplateStore.stubFile, Self.stub)
        chmod(staging + "/" + TemplateStore.memoryFile, 0o400)
        for name in FileIO.listDirectory(staging) where name.hasSuffix(".sock") { unlink(staging + "/" + name) }
        rmdir(staging + "/empty")
        let info = TemplateInfo(
            key: key, kernelRelease: kernel, created: Date().timeIntervalSince1970, hostBootID: TemplateStore.hostBootID(),
            vcpus: command.size.vcpus, memoryMiB: command.size.memoryMiB, shares: command.shares.count,
            buildSeconds: seconds)
        try FileIO.writeAtomically(staging + "/" + TemplateStore.infoFile, try JSONEncoder().encode(info))
    }
}
