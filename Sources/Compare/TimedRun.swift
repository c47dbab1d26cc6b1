import CVessel
import Glibc
import Linux
import MicroVM
import OSKit
import Runtime

// One `vessel [--vm] run` of a bundle, as a user would start it: its output,
// exit status, the time to the first byte of output and to exit, and the
// host memory on the container's side (the runtime's processes and the
// container's; in VM mode also the supervisor and QEMU) as the largest sum
// of their PSS seen while it runs: every 5 ms for the first 200 ms, when
// linux mode's runs end, then every 25 ms.
struct TimedRun {
    var stdout = ""
    var stderr = ""
    var status: Int32 = 0
    var firstOutputMilliseconds: Double?
    var exitMilliseconds: Double = 0
    /// The peak of the processes' summed PSS.
    var hostMemoryKiB: Int = 0
    /// VM mode: how the guest came up ("cold" or "template <hash>").
    var vmBoot: String?

    /// vessel's own VM settings from the environment (templates on or off,
    /// their directory), which the run must see as the caller does.
    static let passedEnvironment = ["VESSEL_VM_DIR", "VESSEL_VM_TEMPLATES", "VESSEL_VM_TEMPLATE_DIR"]

    static func run(vessel: String, root: String, vm: [String], bundle: String, id: String) throws -> TimedRun {
        var out: [Int32] = [0, 0], err: [Int32] = [0, 0]
        try sys("pipe", vessel_pipe(&out))
        try sys("pipe", vessel_pipe(&err))
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        var request = SpawnRequest(
            path: vessel, arguments: ["vessel", "--root", root] + vm + ["run", "--bundle", bundle, id],
            environment: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
                + passedEnvironment.compactMap { name in getenv(name).map { "\(name)=\(String(cString: $0))" } })
        request.stdio = (null, out[1], err[1])
        let start = SystemClock.now()
        let pid = try Spawner.spawn(request)
        close(out[1]); close(err[1]); close(null)
        var result = TimedRun()
        var outBytes: [UInt8] = [], errBytes: [UInt8] = []
        var open = [out[0], err[0]]
        var peak = 0
        while !open.isEmpty {
            var fds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            _ = poll(&fds, nfds_t(fds.count), SystemClock.now() - start < 0.2 ? 5 : 25)
            for poller in fds where poller.revents != 0 {
                var buffer = [UInt8](repeating: 0, count: 65536)
                let count = buffer.withUnsafeMutableBytes { read(poller.fd, $0.baseAddress, $0.count) }
                if count <= 0 {
                    open.removeAll { $0 == poller.fd }
                    close(poller.fd)
                    continue
                }
                if result.firstOutputMilliseconds == nil { result.firstOutputMilliseconds = (SystemClock.now() - start) * 1000 }
                if poller.fd == out[0] { outBytes += buffer[0..<count] } else { errBytes += buffer[0..<count] }
            }
            if !vm.isEmpty && result.vmBoot == nil { result.vmBoot = BootRecord.load(from: root + "/" + id)?.mode }
            let processes = Set(ProcessMemory.tree(pid) + vmProcesses(root: root, id: id))
            peak = max(peak, processes.reduce(0) { $0 + (ProcessMemory.pss($1) ?? 0) })
        }
        result.status = Spawner.exitCode(fromWaitStatus: Spawner.wait(pid))
        result.exitMilliseconds = (SystemClock.now() - start) * 1000
        result.hostMemoryKiB = peak
        result.stdout = String(decoding: outBytes, as: UTF8.self)
        result.stderr = String(decoding: errBytes, as: UTF8.self)
        return result
    }

    /// QEMU and its parent (the supervisor), while the VM runs.
    static func vmProcesses(root: String, id: String) -> [pid_t] {
        guard let text = try? FileIO.read(root + "/" + id + "/qemu.pid"), let qemu = pid_t(text.split(separator: "\n").first ?? "") else { return [] }
        return [qemu] + (ProcessStat(pid: qemu).map { [$0.parentPID] } ?? [])
    }
}
