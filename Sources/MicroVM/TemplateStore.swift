import Errors
import FoundationEssentials
import Glibc
import OSKit

// VM templates on disk: a directory per key (its hash) under the store's
// directory, holding the guest's RAM (`ram`, which clones map copy-on-write
// and nothing writes once the template is made), the machine's saved state
// (`state`), a stub initrd (see TemplateBuilder) and template.json. A
// template is made whole in a staging directory and renamed into place, so
// a reader sees all of it or none; a user may delete any of it at any time
// (a clone holds its files open; the next `create` builds a new one).
public struct TemplateStore {
    public static let memoryFile = "ram"
    public static let stateFile = "state"
    public static let stubFile = "initrd-stub"
    public static let infoFile = "template.json"
    /// Templates kept besides the newest: each is the guest's touched RAM
    /// on disk (about 200 MiB for the default 256 MiB guest).
    public static let kept = 8

    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    public func path(_ hash: String) -> String { directory + "/" + hash }

    /// The template for `key`, its files open; throws why there is none
    /// usable (missing, incomplete, made for another key or host boot).
    public func open(_ key: TemplateKey) throws(VesselError) -> OpenTemplate {
        let directory = path(key.hash)
        guard FileIO.isDirectory(directory) else { throw VesselError.setup("no template \(key.hash) in \(self.directory)") }
        let info: TemplateInfo
        do {
            info = try JSONDecoder().decode(TemplateInfo.self, from: FileIO.readData(directory + "/" + Self.infoFile))
        } catch {
            throw VesselError.setup("template \(key.hash) is incomplete: no readable \(Self.infoFile)")
        }
        guard info.key.text == key.text else { throw VesselError.setup("template \(key.hash) was made for another VM") }
        guard info.hostBootID == Self.hostBootID() else {
            throw VesselError.setup("template \(key.hash) is from an earlier boot of this host")
        }
        var fds: [Int32] = []
        for name in [Self.memoryFile, Self.stateFile, Self.stubFile] {
            let fd = Glibc.open(directory + "/" + name, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else {
                let error = VesselError.system("template \(key.hash) is incomplete: open \(directory)/\(name)")
                fds.forEach { close($0) }
                throw error
            }
            fds.append(fd)
        }
        return OpenTemplate(info: info, directory: directory, memoryFD: fds[0], stateFD: fds[1], stubFD: fds[2])
    }

    /// The template for `key`; when there is none usable, `build` makes it
    /// under a lock, so concurrent `create`s build it once (the others wait,
    /// then find it). `built` says whether this call built it.
    public func obtain(
        _ key: TemplateKey, lockTimeoutSeconds: Double,
        build: () throws -> Void
    ) throws -> (template: OpenTemplate, built: Bool) {
        if let template = try? open(key) { return (template, false) }
        if let failure = failure(key) { throw VesselError.setup("template \(key.hash) could not be made before in this boot: \(failure)") }
        try FileIO.makeDirectories(directory, mode: 0o700)
        let lock = try FileLock(directory + "/" + key.hash + ".lock", timeoutSeconds: lockTimeoutSeconds)
        return try withExtendedLifetime(lock) {
            if let template = try? open(key) { return (template, false) }
            try build()
            return (try open(key), true)
        }
    }

    /// Moves a finished template from `staging` to its place, replacing an
    /// unusable one there.
    func install(_ staging: String, as hash: String) throws(VesselError) {
        let final = path(hash)
        if FileIO.exists(final) {
            let old = directory + "/.old-\(hash)-\(getpid())"
            try sys("rename \(final)", rename(final, old))
            FileIO.removeTree(old)
        }
        try sys("rename \(staging) to \(final)", rename(staging, final))
    }

    // MARK: failures

    /// A template that booted but could not be saved or restored says so
    /// for the rest of this host boot, so each `create` does not boot twice.
    public func markFailed(_ key: TemplateKey, reason: String) {
        let record = FailureRecord(hostBootID: Self.hostBootID(), reason: reason)
        if let data = try? JSONEncoder().encode(record) { try? FileIO.writeAtomically(failurePath(key.hash), data) }
    }

    func failure(_ key: TemplateKey) -> String? {
        guard let data = try? FileIO.readData(failurePath(key.hash)),
            let record = try? JSONDecoder().decode(FailureRecord.self, from: data),
            record.hostBootID == Self.hostBootID()
        else { return nil }
        return record.reason
    }

    struct FailureRecord: Codable {
        var hostBootID: String
        var reason: String
    }

    func failurePath(_ hash: String) -> String { directory + "/" + hash + ".failed" }

    // MARK: listing and removal

    public struct Listed: Sendable {
        public let hash: String
        /// nil for a template without a readable template.json.
        public let info: TemplateInfo?
        public let diskBytes: Int64
    }

    public func list() -> [Listed] {
        FileIO.listDirectory(directory).filter { !$0.hasPrefix(".") && FileIO.isDirectory(path($0)) }.map { hash in
            let info = (try? FileIO.readData(path(hash) + "/" + Self.infoFile)).flatMap { try? JSONDecoder().decode(TemplateInfo.self, from: $0) }
            let bytes = FileIO.listDirectory(path(hash)).reduce(Int64(0)) { total, name in
                var info = stat()
                return total + (lstat(path(hash) + "/" + name, &info) == 0 ? Int64(info.st_blocks) * 512 : 0)
            }
            return Listed(hash: hash, info: info, diskBytes: bytes)
        }
    }

    /// Removes a template, its failure mark and (when no one holds it) its
    /// lock file; false when there was no such template.
    @discardableResult
    public func remove(_ hash: String) -> Bool {
        let existed = FileIO.exists(path(hash)) || FileIO.exists(failurePath(hash))
        FileIO.removeTree(path(hash))
        unlink(failurePath(hash))
        removeLock(hash)
        return existed
    }

    private func removeLock(_ hash: String) {
        let path = directory + "/" + hash + ".lock"
        if let lock = try? FileLock(path, timeoutSeconds: 0) {
            unlink(path)
            withExtendedLifetime(lock) {}
        }
    }

    /// After a build: removes templates whose files (vessel, kernel, QEMU,
    /// initramfs) changed since, unreadable ones, the oldest beyond `kept`,
    /// and what crashed builds left.
    func prune(keeping: String) {
        var usable: [(String, Double)] = []
        for listed in list() where listed.hash != keeping {
            guard let info = listed.info, info.key.isCurrent else {
                remove(listed.hash)
                continue
            }
            usable.append((listed.hash, info.created))
        }
        for (hash, _) in usable.sorted(by: { $0.1 > $1.1 }).dropFirst(Self.kept - 1) { remove(hash) }
        for name in FileIO.listDirectory(directory) {
            if name.hasPrefix(".build-") || name.hasPrefix(".old-") {
                // .build-<hash>-<pid>: in progress while its builder lives.
                if let pid = name.split(separator: "-").last.flatMap({ pid_t($0) }), kill(pid, 0) == 0 { continue }
                FileIO.removeTree(directory + "/" + name)
            } else if name.hasSuffix(".lock"), !FileIO.exists(path(String(name.dropLast(5)))) {
                removeLock(String(name.dropLast(5)))  // a build that failed, or a template removed by hand
            } else if name.hasSuffix(".failed") {
                let hash = String(name.dropLast(7))
                if let data = try? FileIO.readData(failurePath(hash)),
                    (try? JSONDecoder().decode(FailureRecord.self, from: data))?.hostBootID == Self.hostBootID()
                {
                    continue
                }
                unlink(failurePath(hash))
            }
        }
    }

    /// This boot of the host (templates are not fsynced: one from an
    /// earlier boot may have been cut short by a crash).
    public static func hostBootID() -> String {
        ((try? FileIO.read("/proc/sys/kernel/random/boot_id")) ?? "").filter { $0 != "\n" }
    }
}

/// template.json: what the template holds and when it was made.
public struct TemplateInfo: Codable, Sendable {
    public var key: TemplateKey
    /// The guest kernel's release, as its agent reported it.
    public var kernelRelease: String
    /// Seconds since the epoch.
    public var created: Double
    public var hostBootID: String
    public var vcpus: Int
    public var memoryMiB: Int
    public var shares: Int
    /// How long the template took to make (boot and save).
    public var buildSeconds: Double

    /// "4.3 s"
    public var buildTime: String { "\(Double(Int(buildSeconds * 10)) / 10) s" }
}

/// A template opened for one restore: its files held open, so deleting or
/// replacing them meanwhile changes nothing for this restore.
public final class OpenTemplate {
    public let info: TemplateInfo
    public let directory: String
    public let memoryFD: Int32
    public let stateFD: Int32
    public let stubFD: Int32

    init(info: TemplateInfo, directory: String, memoryFD: Int32, stateFD: Int32, stubFD: Int32) {
        self.info = info
        self.directory = directory
        self.memoryFD = memoryFD
        self.stateFD = stateFD
        self.stubFD = stubFD
    }

    deinit { [memoryFD, stateFD, stubFD].forEach { close($0) } }
}
