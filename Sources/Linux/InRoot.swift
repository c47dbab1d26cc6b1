import OSKit
import Errors
import CVessel
import Glibc
import OCI

// A directory that paths are resolved under as if it were "/": openat2 with
// RESOLVE_IN_ROOT, so symlinks and ".." never lead out of it, and each
// result is an O_PATH descriptor that later calls use instead of the path.
// A shared volume cannot swap a directory for a symlink between the check
// and the mount (CVE-2019-19921, CVE-2021-30465, CVE-2024-45310 class).
public struct InRoot {
    public let fd: Int32
    public let path: String

    public init(_ path: String) throws(VesselError) {
        self.path = path
        fd = try sys("open \(path)", Glibc.open(path, O_PATH | O_DIRECTORY | O_CLOEXEC))
    }

    public func close() { _ = Glibc.close(fd) }

    /// An O_PATH fd for `path` inside the root (`extraFlags`: O_NOFOLLOW,
    /// O_DIRECTORY); `resolve` adds VESSEL_RESOLVE_* restrictions.
    public func open(_ path: String, extraFlags: Int32 = 0, resolve: UInt64 = 0) throws(VesselError) -> Int32 {
        let relative = Self.normalized(path)
        return try sysNegative(
            "open \(path) in the container",
            vessel_openat2(
                fd, relative.isEmpty ? "." : relative, O_PATH | extraFlags,
                UInt64(VESSEL_RESOLVE_IN_ROOT) | resolve))
    }

    /// Opens `path` if it exists (nil when it does not).
    public func openIfPresent(_ path: String, extraFlags: Int32 = 0) throws(VesselError) -> Int32? {
        do {
            return try open(path, extraFlags: extraFlags)
        } catch  where error.errno == .noSuchFileOrDirectory {
            return nil
        }
    }

    /// mkdir -p inside the root; returns an O_PATH fd of the directory.
    public func makeDirectories(_ path: String) throws(VesselError) -> Int32 {
        // The directory opened last; the root is opened only when a first
        // component must be made, or nothing was named.
        var parent: Int32?
        var prefix = ""
        for component in LexicalPath.components(path) {
            let above = prefix
            if !prefix.isEmpty { prefix.append("/") }
            prefix.append(contentsOf: component)
            if let next = try openIfPresent(prefix) {
                if let parent { Glibc.close(parent) }
                parent = next
                continue
            }
            let directory: Int32
            if let parent { directory = parent } else { directory = try open(above) }
            parent = nil
            // Created relative to the resolved parent: never outside the root.
            if mkdirat(directory, String(component), 0o755) != 0 && errno != EEXIST {
                let error = VesselError.system("mkdir \(prefix) in the container")
                Glibc.close(directory)
                throw error
            }
            Glibc.close(directory)
            parent = try open(prefix, extraFlags: O_DIRECTORY)
        }
        if let parent { return parent }
        return try open("/")
    }

    /// The parent directory of `path` (created if missing) and the last
    /// component's name, for the *at calls that create it.
    func parent(of path: String) throws(VesselError) -> (directory: Int32, name: String) {
        let parts = LexicalPath.components(path)
        guard let name = parts.last else { throw VesselError.system("\(path) names the root itself", errno: .invalidArgument) }
        return (try makeDirectories(LexicalPath.joined(parts.dropLast())), String(name))
    }

    /// Opens `path` for mounting on, creating it (a directory, or an empty
    /// file when `directory` is false) where it does not exist yet.
    public func mountPoint(_ path: String, directory: Bool) throws(VesselError) -> Int32 {
        if let fd = try openIfPresent(path) { return fd }
        if directory { return try makeDirectories(path) }
        let (parent, name) = try parent(of: path)
        defer { Glibc.close(parent) }
        let created = openat(parent, name, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0o644)
        if created >= 0 {
            Glibc.close(created)
        } else if errno != EEXIST {
            throw VesselError.system("create mount point \(path) in the container")
        }
        return try open(path)
    }

    /// The path relative to the root, lexically normalized (LexicalPath).
    public static func normalized(_ path: String) -> String { LexicalPath.relative(path) }
}

/// "/proc/self/fd/N": how mount(2), which takes paths, is pointed at a
/// descriptor. Only used while /proc is the host's procfs (before
/// pivot_root), which the container cannot change.
func descriptorPath(_ fd: Int32) -> String { "/proc/self/fd/\(fd)" }

/// O_PATH, which Swift's Glibc module leaves out (it is a _GNU_SOURCE name).
let O_PATH: Int32 = 0o10000000
