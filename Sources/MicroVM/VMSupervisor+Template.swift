import Errors
import Glibc
import OSKit

// The supervisor's restore of a guest from a template: a new QEMU with the
// container's command line, the template's RAM file mapped copy-on-write
// and its saved state loaded over QMP, then the refresh (RNG, clock) as
// for any guest. Whatever fails leaves no QEMU behind, and the supervisor
// boots cold instead.
extension VMSupervisor {
    struct RestoreOutcome {
        /// The guest kernel's release once restored; nil: boot cold.
        var kernel: String?
        var built = false
        var failure: String?
    }

    func restore(from template: TemplatePlan) -> RestoreOutcome {
        let store = TemplateStore(directory: template.directory)
        let timeout = plan.bootTimeoutSeconds
        var outcome = RestoreOutcome()
        let opened: OpenTemplate
        do {
            (opened, outcome.built) = try store.obtain(template.key, lockTimeoutSeconds: Double(timeout)) {
                try TemplateBuilder(store: store, key: template.key, command: plan.qemu, bootTimeoutSeconds: timeout).build()
            }
        } catch {
            outcome.failure = "\(error)"
            return outcome
        }
        do {
            try restore(opened, until: SystemClock.now() + Double(timeout))
            outcome.kernel = opened.info.kernelRelease
        } catch {
            outcome.failure = "restore from template \(template.key.hash): \(error)"
            discardRestoredGuest()
            // A template that cannot be restored goes (the next create
            // builds another); one just built is remembered as failing.
            if outcome.built { store.markFailed(template.key, reason: "\(error)") }
            store.remove(template.key.hash)
        }
        return outcome
    }

    private func restore(_ template: OpenTemplate, until deadline: Double) throws {
        var stateFD: Int32 = -1
        // The container's taps take the places of the template's; ours
        // stay open until the restore succeeds (a cold boot needs them).
        let taps = try carried?.inheritableTaps() ?? []
        defer { carried?.closeCopies(taps) }
        let qemu = try QemuProcess.spawn(in: sockets, inheriting: [template.memoryFD, template.stateFD, template.stubFD]) { socketDirectory, fds in
            var command = plan.qemu
            command.socketDirectory = socketDirectory
            command.initramfs = "/proc/self/fd/\(fds[2])"
            command.taps = taps
            stateFD = fds[1]
            return command.arguments(memoryFile: "/proc/self/fd/\(fds[0])", shared: false, incoming: true)
        }
        try adopt(qemu)
        // The template was saved with its control port connected; connected
        // before the state loads, the guest never sees its host go away.
        control = MessageChannel(fd: try qemu.connect(GuestPorts.fileName(GuestPorts.control), until: deadline))
        let qmp = try QMPClient(fd: try qemu.connect(QemuCommand.qmpSocketName, until: deadline), until: deadline)
        // QEMU's monitor can make it write files as root: once connected,
        // its socket's name goes, so no one else ever reaches it.
        unlink(directory + "/" + QemuCommand.qmpSocketName)
        try qmp.loadState(fromInherited: stateFD, until: deadline)
        try refresh(until: deadline)
        carried?.closeInherited([])
    }

    /// The failed restore's QEMU and sockets, before a cold boot.
    private func discardRestoredGuest() {
        qemu?.kill()
        qemu = nil
        control?.close()
        control = nil
        unlink(directory + "/" + QemuCommand.qmpSocketName)
    }
}
