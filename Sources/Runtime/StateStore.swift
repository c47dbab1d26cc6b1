import Errors
import FoundationEssentials
import Glibc
import Linux
import OSKit
import MicroVM
import OCI

// The state directory (--root, default /run/vessel): one directory per
// container holding state.json and, until `start`, the exec FIFO.
public struct StateStore: Sendable {
    public let root: String

    public init(root: String) { self.root = root }

    public func directory(_ id: ContainerID) -> String { root + "/" + id.value }
    public func fifo(_ id: ContainerID) -> String { directory(id) + "/exec.fifo" }

    /// Claims the id: mkdir is atomic, so of two concurrent `create`s with
    /// one id exactly one succeeds.
    public func claim(_ id: ContainerID) throws -> String {
        try FileIO.makeDirectories(root, mode: 0o700)
        let dir = directory(id)
        if mkdir(dir, 0o700) != 0 {
            if errno == EEXIST { throw VesselError.alreadyExists(id.value) }
            throw VesselError.system("mkdir \(dir)")
        }
        return dir
    }

    public func save(_ record: ContainerRecord) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(record)
        try FileIO.writeAtomically(root + "/" + record.id + "/state.json", data)
    }

    public func load(_ id: ContainerID) throws -> ContainerRecord {
        let path = directory(id) + "/state.json"
        guard FileIO.isDirectory(directory(id)) else { throw VesselError.notFound(id.value) }
        guard let data = try? FileIO.readData(path) else {
            // Claimed but never saved: a `create` that is still running or died.
            return ContainerRecord(
                id: id.value, bundle: "", rootfs: "", pid: 0, pidStartTime: 0, created: "",
                owner: "", annotations: nil, cgroupMountPoint: nil, cgroupPath: nil,
                hooks: nil, ociVersion: SpecVersion.current)
        }
        do {
            return try JSONDecoder().decode(ContainerRecord.self, from: data)
        } catch {
            throw VesselError.corruptState(id: id.value, reason: "\(path) is corrupt: " + Self.describe(error, path: path))
        }
    }

    /// One line on what is wrong in state.json: the field, or bad JSON.
    static func describe(_ error: any Error, path: String) -> String {
        guard let error = error as? DecodingError else { return oneLine("\(error)") }
        let described = SpecLoader.describe(error, path: path)
        // Every other decoding failure names its field.
        if described.field == nil { return "not valid JSON" }
        return oneLine("\(described)".replacingPrefix("config.json: ", with: ""))
    }

    /// A decoder's message may span lines; errors are one line.
    static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    /// What `load` would return, from whatever fields of state.json still
    /// parse: for `delete --force` of a corrupt container.
    public func salvage(_ id: ContainerID) -> ContainerRecord {
        let data = (try? FileIO.readData(directory(id) + "/state.json")) ?? Data()
        return ContainerRecord.salvaged(id: id.value, from: data)
    }

    /// The other containers whose cgroup is `cgroup` or lies inside it:
    /// killing or removing `cgroup` would reach them. Corrupt records count
    /// by whatever cgroup they still name. Each is read as `salvage` reads
    /// it, field by field: its cgroup fields are the same either way, and
    /// every `delete` reads all the others (a whole record each, process and
    /// hooks and all, was 3% of the CPU of `run`s with 8 in flight).
    /// A record whose file cannot name the cgroup (see `mayName`) is not
    /// decoded at all: with 8 containers in flight, every `delete` read 7
    /// others, each a decoding of a whole file.
    public func containers(using cgroup: Cgroup, except id: ContainerID) -> [ContainerRecord] {
        let name = Self.lastComponent(of: cgroup.path)
        return ids().filter { $0 != id.value }.compactMap { other -> ContainerRecord? in
            guard let other = try? ContainerID(other) else { return nil }
            let data = (try? FileIO.readData(directory(other) + "/state.json")) ?? Data()
            guard Self.mayName(name, in: data) else { return nil }
            let record = ContainerRecord.salvaged(id: other.value, from: data)
            guard let path = record.cgroupPath, record.cgroupMountPoint ?? cgroup.mountPoint == cgroup.mountPoint,
                path == cgroup.path || path.hasPrefix(cgroup.path + "/")
            else { return nil }
            return record
        }
    }

    /// The last component of a cgroup path; nil where there is none to look
    /// for, or where JSON could write it other than as its own bytes (a
    /// quote, a backslash, a control character).
    static func lastComponent(of path: String) -> [UInt8]? {
        let name = Array(path.utf8.split(separator: UInt8(ascii: "/")).last ?? [])
        guard !name.isEmpty, !name.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") })
        else { return nil }
        return name
    }

    /// Whether a state.json's bytes may hold a string that contains `name`
    /// (a cgroup path equal to the cgroup's, or below it, does). Without a
    /// \u escape in the file, every escape JSON has writes a character that
    /// `name` lacks (a quote, a backslash, "/", a control character), so a
    /// decoded string holds `name` only where the bytes do. Unsure: true.
    static func mayName(_ name: [UInt8]?, in data: Data) -> Bool {
        guard let name else { return true }
        return data.withUnsafeBytes { bytes in
            occurs([UInt8(ascii: "\\"), UInt8(ascii: "u")], in: bytes) || occurs(name, in: bytes)
        }
    }

    /// Whether `needle` (not empty) occurs in `bytes` (memmem, which Glibc's
    /// module does not offer).
    private static func occurs(_ needle: [UInt8], in bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress, needle.count <= bytes.count else { return false }
        var at = base
        let last = base + (bytes.count - needle.count)
        return needle.withUnsafeBytes { wanted in
            guard let wanted = wanted.baseAddress else { return false }
            while at <= last, let found = memchr(at, Int32(needle[0]), last - at + 1) {
                if memcmp(found, wanted, needle.count) == 0 { return true }
                at = UnsafeRawPointer(found) + 1
            }
            return false
        }
    }

    /// A VM pod sandbox's directory holds its pod directory, with the
    /// members' bind mounts below it: those are detached first, and the
    /// tree is never removed through a mount that stays (PodShareMounts).
    public func remove(_ id: ContainerID) {
        let directory = directory(id)
        if FileIO.exists(PodShare.hostDirectory(ofSandbox: directory)) {
            PodShareMounts.detachAndRemove(directory)
            return
        }
        FileIO.removeTree(directory)
    }

    public func ids() -> [String] {
        FileIO.listSubdirectories(root)
    }

    /// The status, derived from facts rather than stored.
    public func status(of record: ContainerRecord) -> ContainerStatus {
        guard (try? ContainerID(record.id)) != nil else { return .stopped }
        if record.pid == 0 { return .creating }
        guard ProcessStat.isAlive(pid: record.pid, startTime: record.pidStartTime) else { return .stopped }
        return record.backend(in: self).liveStatus(of: record)
    }

    /// Kills everything in the container's cgroup and removes it, children
    /// first, when the container owns it and no other container in the
    /// store uses it (or a cgroup inside it). Otherwise leaves it, saying
    /// why through `warn`: a shared cgroup is not the container's to empty.
    func release(_ cgroup: Cgroup, of id: ContainerID, owned: Bool, warn: (String) -> Void) {
        let others = containers(using: cgroup, except: id).map(\.id)
        if owned && others.isEmpty {
            cgroup.destroy()
            return
        }
        guard cgroup.exists else { return }
        let reason =
            others.isEmpty
            ? "it existed before the container was created"
            : "other containers use it: \(others.joined(separator: ", "))"
        warn("container \(id.value): cgroup \(cgroup.directory) left in place: \(reason)")
    }

    /// An exclusive lock on the container's directory for one operation.
    public func lock(_ id: ContainerID) throws -> Int32 {
        let fd = open(directory(id), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw VesselError.notFound(id.value) }
        flock(fd, LOCK_EX)
        return fd
    }
}

extension ContainerRecord {
    /// The recorded cgroup, if it passes Cgroup's checks for a container's
    /// own: nil for none, and for a root, `..`, or foreign mount in the file.
    var cgroup: Cgroup? {
        guard let mount = cgroupMountPoint, let path = cgroupPath else { return nil }
        return Cgroup(validatingMountPoint: mount, path: path)
    }

    /// The runtime-spec state document for hooks and `state`.
    func state(status: ContainerStatus) -> State {
        State(
            ociVersion: ociVersion, id: id, status: status, pid: status == .stopped ? nil : pid,
            bundle: bundle, annotations: annotations)
    }

    /// The state document as hooks get it on stdin.
    func stateJSON(status: ContainerStatus) throws -> String {
        String(decoding: try JSONEncoder().encode(state(status: status)), as: UTF8.self)
    }
}
