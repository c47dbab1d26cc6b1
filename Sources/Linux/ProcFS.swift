import OSKit
import Errors
import CVessel
import Glibc

// A procfs that vessel has checked before writing to it: the root of a
// procfs mount (fstatfs says PROC_SUPER_MAGIC, inode 1), reached without
// symlinks. Writes go through openat2 beneath it without crossing a mount
// or following a magic link, so a bind mount or symlink that a container
// put over /proc/sys/..., /proc/self/attr/... or /proc/self/oom_score_adj
// cannot redirect them (CVE-2019-16884, CVE-2023-27561, CVE-2025-52881 class).
public struct ProcFS {
    static let superMagic = 0x9fa0
    static let rootInode: ino_t = 1

    let fd: Int32
    let path: String

    /// Opens and checks the procfs at `path` (resolved from "/").
    public init(at path: String = "/proc") throws {
        self.path = path
        fd = try sysNegative(
            "open \(path)",
            vessel_openat2(
                AT_FDCWD, path, O_PATH | O_DIRECTORY,
                UInt64(VESSEL_RESOLVE_NO_SYMLINKS)))
        var info = stat()
        guard vessel_fs_type(fd) == Self.superMagic, fstat(fd, &info) == 0, info.st_ino == Self.rootInode else {
            Glibc.close(fd)
            throw VesselError.setup("\(path) is not a procfs mount (it must be one before vessel writes to it)")
        }
    }

    public func close() { _ = Glibc.close(fd) }

    /// Writes `text` to `relative` (e.g. "sys/net/ipv4/ip_forward") under this procfs.
    public func write(_ relative: String, _ text: String) throws(VesselError) {
        let resolve = UInt64(VESSEL_RESOLVE_BENEATH) | UInt64(VESSEL_RESOLVE_NO_XDEV) | UInt64(VESSEL_RESOLVE_NO_MAGICLINKS)
        let file = try sysNegative("open \(path)/\(relative)", vessel_openat2(fd, relative, O_WRONLY, resolve))
        defer { Glibc.close(file) }
        let ok = text.utf8CString.withUnsafeBufferPointer { buffer in
            Glibc.write(file, buffer.baseAddress, buffer.count - 1) == buffer.count - 1
        }
        if !ok { throw VesselError.system("write \(path)/\(relative)") }
    }
}
