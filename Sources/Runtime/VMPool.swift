import Errors
import FoundationEssentials
import Glibc
import Linux
import MicroVM
import OCI
import OSKit

// A pool of VMs restored from their template and warmed up before any
// container asks for one, as Kata Containers' VM cache: under TCG a
// restored guest still translates every path its first container takes
// (docs/decisions.md, "VM templates"), so a `create` that finds a ready
// VM skips QEMU's start, the restore and most of that translation. Off
// until `vessel vm pool fill --count N` (N VMs of one size per state
// root); each claim starts a refill in the background. A pool VM serves
// one container, which joins it as a pod's container joins its sandbox's
// VM, and ends with it. Entries live in /run/vessel-vm-pool/<root hash>/<n>.
public struct VMPool {
    public static let base = "/run/vessel-vm-pool"
    /// TCG's code cache for a pool VM. What the warm-up translated must
    /// still be there when the container comes: a full cache is flushed
    /// whole, and restore, warm-up and a container's create take 32-48 MiB
    /// of it. Measured here, to first output: 0.55 s with 32 MiB, 0.15 s
    /// with 48 or uncapped (docs/decisions.md, "A pool of warm VMs").
    static let codeCacheMiB = 64
    static let readyMark = "ready"
    static let claimMark = "claimed"

    /// The state root whose containers this pool serves.
    public let root: String

    public init(root: String) {
        self.root = root
    }

    public var directory: String { Self.base + "/" + FileIdentity.hash(root) }

    /// An entry's directory; `number` comes from a state file at worst, and
    /// a number cannot name anything else. The name is no container id
    /// ("@"), so a container's id never matches its supervisor directory's
    /// last part (VMTarget.isMember).
    public func entryDirectory(_ number: Int) -> String { directory + "/" + Self.entryPrefix + "\(number)" }
    static let entryPrefix = "pool@"

    /// What `fill --count` asked for (pool.json): the refill's settings too.
    public struct Config: Codable, Sendable {
        public var count: Int
        public var size: GuestSize
        public var settings: VMSettings

        public init(count: Int, size: GuestSize, settings: VMSettings) {
            self.count = count
            self.size = size
            self.settings = settings
        }
    }

    /// One VM of the pool (entry.json), written once it is ready.
    public struct Entry: Codable, Sendable {
        /// The text of the template key of its QEMU command: a container
        /// takes only a VM it would have restored from the same template.
        public var key: String
        public var supervisorPID: Int32
        public var supervisorStartTime: UInt64
        public var qemuPID: Int32
        public var guestKernel: String
        public var accelerator: String
        public var boot: String

        /// Whether its supervisor still runs (and is the one that wrote this).
        public var isAlive: Bool { ProcessStat.isAlive(pid: supervisorPID, startTime: supervisorStartTime) }
    }

    public struct Claimed {
        public let number: Int
        public let entry: Entry
        public let directory: String
    }

    public func config() -> Config? {
        (try? FileIO.readData(directory + "/pool.json")).flatMap { try? JSONDecoder().decode(Config.self, from: $0) }
    }

    func save(_ config: Config) throws {
        try FileIO.makeDirectories(directory, mode: 0o700)
        try FileIO.writeAtomically(directory + "/pool.json", try JSONEncoder().encode(config))
    }

    public func entry(_ number: Int) -> Entry? {
        (try? FileIO.readData(entryDirectory(number) + "/entry.json")).flatMap { try? JSONDecoder().decode(Entry.self, from: $0) }
    }

    /// The entries' numbers, in order.
    public func numbers() -> [Int] {
        FileIO.listSubdirectories(directory).filter { $0.hasPrefix(Self.entryPrefix) }
            .compactMap { Int($0.dropFirst(Self.entryPrefix.count)) }.filter { $0 >= 0 }.sorted()
    }

    public enum Status: String {
        case warming, ready, claimed, dead
    }

    public func status(_ number: Int) -> Status {
        let entryDirectory = entryDirectory(number)
        if FileIO.exists(entryDirectory + "/" + Self.claimMark) { return entry(number)?.isAlive == true ? .claimed : .dead }
        guard FileIO.exists(entryDirectory + "/" + Self.readyMark), let entry = entry(number) else { return .warming }
        return entry.isAlive ? .ready : .dead
    }

    // MARK: claiming

    /// QEMU's command for a pool VM of `size`, and the template it restores
    /// from; nil when templates are off (the pool is a pool of restored VMs).
    public static func command(
        settings: VMSettings, accelerator: Accelerator, size: GuestSize, directory: String, binary: String,
        annotations: [String: String]?
    ) throws -> (QemuCommand, TemplatePlan)? {
        let share = QemuCommand.Share(tag: PodShare.tag, hostPath: PodShare.hostDirectory(ofSandbox: directory), readOnly: false)
        var command = try VMCreator.qemuCommand(
            settings: settings, qemu: try VMSupervisor.resolve(settings.qemu), accelerator: accelerator, size: size,
            directory: directory, shares: [share], binary: binary)
        guard case .restore = VMTemplates.decide(for: &command, annotations: annotations, settings: settings, binary: binary) else {
            return nil
        }
        command.tcgCodeCacheMiB = codeCacheMiB
        let plan = TemplatePlan(directory: settings.templateDirectory, key: try TemplateKey(command: command, binary: binary))
        return (command, plan)
    }

    /// Takes a ready VM whose template key is `key`, if the pool has one.
    /// Two creates never take the same VM: the claim mark is made with
    /// O_EXCL.
    public func claim(key: String) -> Claimed? {
        guard let config = config(), config.count > 0 else { return nil }
        for number in numbers() where status(number) == .ready {
            guard let entry = entry(number), entry.key == key, markClaimed(number) else { continue }
            return Claimed(number: number, entry: entry, directory: entryDirectory(number))
        }
        return nil
    }

    /// Makes the entry's claim mark; false when it was there already (or
    /// the entry is gone): the VM is another's.
    private func markClaimed(_ number: Int) -> Bool {
        let fd = open(entryDirectory(number) + "/" + Self.claimMark, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return false }
        close(fd)
        return true
    }

    /// A claimed VM that no container joined (its create failed first):
    /// its supervisor and QEMU end, and the entry goes.
    public func discard(_ claimed: Claimed) {
        end(claimed.entry)
        Self.removeEntry(claimed.directory)
    }

    /// `vessel vm pool fill --refill`, in the background and at low
    /// priority, so the container that just took a VM keeps the CPU.
    public func startRefill() {
        guard let binary = try? FileIO.realPath("/proc/self/exe") else { return }
        var request = SpawnRequest(
            path: binary, arguments: ["vessel", "--root", root, "vm", "pool", "fill", "--refill"],
            environment: ["PATH=/usr/bin:/bin:/usr/sbin:/sbin"])
        request.newSession = true
        // It forks and its parent exits at once: nothing is left to reap.
        if let pid = Self.withNullStdio(request, { try? Spawner.spawn($0) }) { _ = Spawner.wait(pid) }
    }

    /// `body` with `request`'s stdio on /dev/null: a pool's processes
    /// outlive the command that starts them and keep none of its files.
    private static func withNullStdio<T>(_ request: SpawnRequest, _ body: (SpawnRequest) throws -> T) rethrows -> T {
        var request = request
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        defer { if null >= 0 { close(null) } }
        request.stdio = (null, null, null)
        return try body(request)
    }

    /// QEMU's command for a pool VM in `directory`, its template and the
    /// accelerator; an error when templates are off.
    private func poolCommand(_ config: Config, directory: String, binary: String) throws -> (QemuCommand, TemplatePlan, Accelerator) {
        let accelerator = try Accelerator.choose(config.settings.accel).accelerator
        guard
            let (command, template) = try Self.command(
                settings: config.settings, accelerator: accelerator, size: config.size, directory: directory, binary: binary,
                annotations: nil)
        else { throw VesselError.unsupported("vm pool: templates are off (VESSEL_VM_TEMPLATES); a pool holds VMs restored from one") }
        return (command, template, accelerator)
    }

    // MARK: filling and draining

    /// Starts VMs until `count` are ready; returns the new ones' numbers.
    /// Without a config (a refill), the pool's own, if it is still on.
    public func fill(_ given: Config?, log: (String) -> Void) throws -> [Int] {
        if let given { try save(given) }
        let lock = try lockFills(timeoutSeconds: Double((given ?? config())?.settings.bootTimeoutSeconds ?? 60) * 3)
        defer { withExtendedLifetime(lock) {} }
        guard let config = given ?? config(), config.count > 0 else { return [] }
        // Under the lock no entry is being made: one without a live
        // supervisor is left from a crash, or its container has ended.
        for number in numbers() where status(number) == .dead || (status(number) == .warming && entry(number) == nil) {
            Self.removeEntry(entryDirectory(number))
        }
        let binary = try FileIO.realPath("/proc/self/exe")
        let (_, template, _) = try poolCommand(config, directory: "/", binary: binary)
        // VMs no create would take any more (another vessel, kernel, QEMU
        // or size), and those beyond the count, end.
        let ready = numbers().filter { status($0) == .ready }
        let stale = ready.filter { entry($0)?.key != template.key.text }
        for number in stale + ready.filter({ !stale.contains($0) }).dropFirst(config.count) { remove(number) }
        let waiting = numbers().filter { status($0) == .ready }.count
        var started: [Int] = []
        for _ in waiting..<max(waiting, config.count) {
            let number = (numbers().last ?? -1) + 1
            try start(number, config: config, binary: binary)
            log("vm pool: VM \(number) is ready")
            started.append(number)
        }
        return started
    }

    /// Boots one pool VM (restored from its template) and waits until it
    /// has run its warm-up.
    private func start(_ number: Int, config: Config, binary: String) throws {
        let entryDirectory = entryDirectory(number)
        try sys("mkdir \(entryDirectory)", mkdir(entryDirectory, 0o700))
        var supervisor: pid_t = 0
        var succeeded = false
        defer {
            if !succeeded {
                if supervisor > 0 {
                    Glibc.kill(supervisor, SIGKILL)
                    _ = Spawner.wait(supervisor)
                }
                Self.removeEntry(entryDirectory)
            }
        }
        _ = try PodShareMounts.prepare(sandboxDirectory: entryDirectory)
        // The warm-up's program is this vessel, read by the guest over 9p.
        try PodShareMounts.bind(
            [PodBind(source: binary, name: PoolWarmUp.programName, isDirectory: false, field: "the warm-up's program")],
            member: PoolWarmUp.id, sandboxDirectory: entryDirectory)
        let warmUpRoot = PodShare.hostDirectory(ofSandbox: entryDirectory) + "/\(PoolWarmUp.id)/\(PoolWarmUp.rootfsName)"
        try sys("mkdir \(warmUpRoot)", mkdir(warmUpRoot, 0o700))
        let (command, template, accelerator) = try poolCommand(config, directory: entryDirectory, binary: binary)
        let pool = PoolPlan(memberRoot: root, warmUp: PoolWarmUp.join(libraries: try Initramfs.sharedLibraries(of: binary)))
        try SupervisorPlan(
            qemu: command, spec: nil, shares: command.shares, bootTimeoutSeconds: config.settings.bootTimeoutSeconds,
            consoleSocket: nil, network: false, template: template, pool: pool
        ).save(in: entryDirectory)

        var request = SpawnRequest(
            path: binary, arguments: ["vessel", "vm-supervise", entryDirectory], environment: ["PATH=/usr/bin:/bin:/usr/sbin:/sbin"])
        request.newSession = true
        // Never the host's network namespace: the VM has no network, and
        // its container's relay gets its own.
        request.cloneFlags = UInt64(NamespaceType.network.cloneFlag)
        let (pid, report) = try Self.withNullStdio(request) {
            try StartReport.spawn($0, timeoutSeconds: config.settings.bootTimeoutSeconds * 3 + 15)
        }
        supervisor = pid
        PodShareMounts.release(member: PoolWarmUp.id, sandboxDirectory: entryDirectory)
        guard case let .started(kernel)? = report else {
            throw VesselError.guest(StartReport.failure(report, otherwise: "vm pool: the VM supervisor ended without a report"))
        }
        let entry = Entry(
            key: template.key.text, supervisorPID: pid, supervisorStartTime: ProcessStat(pid: pid)?.startTime ?? 0,
            qemuPID: (try? FileIO.read(entryDirectory + "/qemu.pid")).flatMap { Int32($0) } ?? 0,
            guestKernel: kernel, accelerator: accelerator.rawValue,
            boot: BootRecord.load(from: entryDirectory)?.mode ?? "cold")
        try FileIO.writeAtomically(entryDirectory + "/entry.json", try JSONEncoder().encode(entry))
        try FileIO.writeAtomically(entryDirectory + "/" + Self.readyMark, Data())
        succeeded = true
    }

    /// One fill (or drain) at a time per pool.
    private func lockFills(timeoutSeconds: Double) throws -> FileLock {
        try FileLock(directory + "/fill.lock", timeoutSeconds: timeoutSeconds)
    }

    /// Ends every VM no container has taken, and the pool with them (a
    /// taken one ends with its container). A fill under way finishes first.
    public func drain() throws {
        guard FileIO.exists(directory) else { return }
        let lock = try lockFills(timeoutSeconds: Double(config()?.settings.bootTimeoutSeconds ?? 60) * 3)
        defer { withExtendedLifetime(lock) {} }
        unlink(directory + "/pool.json")
        for number in numbers() where status(number) != .claimed { remove(number) }
        // Nothing left of the pool on the host (a taken VM keeps it).
        if numbers().isEmpty {
            unlink(directory + "/fill.lock")
            rmdir(directory)
        }
    }

    /// Ends a VM no container has taken and removes its entry. It is taken
    /// first, as a create takes one, so a create that claimed it a moment
    /// before keeps it.
    private func remove(_ number: Int) {
        let entryDirectory = entryDirectory(number)
        if !markClaimed(number) && status(number) == .claimed { return }
        if let entry = entry(number) { end(entry) }
        Self.removeEntry(entryDirectory)
    }

    /// Kills the entry's supervisor (QEMU dies with it), if it is still
    /// the process that wrote the entry.
    private func end(_ entry: Entry) {
        guard entry.isAlive else { return }
        Glibc.kill(entry.supervisorPID, SIGKILL)
        var waited = 0
        while waited < 2000 && (entry.isAlive || Glibc.kill(entry.qemuPID, 0) == 0) {
            usleep(1000)
            waited += 1
        }
    }

    /// An entry's directory, its pod share's binds detached first.
    public static func removeEntry(_ directory: String) {
        PodShareMounts.detachAndRemove(directory)
    }
}
