import OSKit
import Errors
import Glibc

// The `tmpcopyup` mount option (runc's and crun's; podman asks for it on
// tmpfs volumes): a tmpfs starts with a copy of the directory it covers.
// Both ends are descriptors and nothing is followed: the source is the
// container's own rootfs, so a symlink in it is copied as a symlink, never
// resolved, and every entry keeps its owner and exact mode (later runc's
// fix of issue 3991; the umask plays no part).
enum TmpfsCopyUp {
    /// Copies what directory `source` holds into directory `target`.
    static func copy(from source: Int32, to target: Int32, path: String) throws {
        let listing = dup(source)
        guard listing >= 0, let directory = fdopendir(listing) else {
            if listing >= 0 { close(listing) }
            throw VesselError.system("tmpcopyup: read \(path)")
        }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            var entryName = entry.pointee.d_name
            let capacity = MemoryLayout.size(ofValue: entryName)
            let name = withUnsafePointer(to: &entryName) { $0.withMemoryRebound(to: CChar.self, capacity: capacity) { String(cString: $0) } }
            if name == "." || name == ".." { continue }
            try copyEntry(name, from: source, to: target, path: path + "/" + name)
        }
    }

    static func copyEntry(_ name: String, from source: Int32, to target: Int32, path: String) throws {
        var info = stat()
        try sys("tmpcopyup: stat \(path)", fstatat(source, name, &info, AT_SYMLINK_NOFOLLOW))
        let mode = info.st_mode & 0o7777
        switch info.st_mode & S_IFMT {
        case S_IFDIR:
            try sys("tmpcopyup: mkdir \(path)", mkdirat(target, name, 0o700))
            let from = try sys("tmpcopyup: open \(path)", openat(source, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC))
            defer { close(from) }
            let to = try sys("tmpcopyup: open the copy of \(path)", openat(target, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC))
            defer { close(to) }
            try copy(from: from, to: to, path: path)
        case S_IFREG:
            let from = try sys("tmpcopyup: open \(path)", openat(source, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC))
            defer { close(from) }
            let to = try sys("tmpcopyup: create the copy of \(path)", openat(target, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600))
            defer { close(to) }
            try copyBytes(from: from, to: to, path: path)
        case S_IFLNK:
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let length = try sys("tmpcopyup: readlink \(path)", Int32(readlinkat(source, name, &buffer, Int(PATH_MAX))))
            buffer[Int(length)] = 0
            try sys("tmpcopyup: symlink \(path)", symlinkat(buffer, target, name))
        default:
            // Device nodes, fifos and sockets: the node again (a device still
            // needs the device cgroup's leave to be opened).
            try sys("tmpcopyup: mknod \(path)", mknodat(target, name, info.st_mode, info.st_rdev))
        }
        try sys("tmpcopyup: chown \(path)", fchownat(target, name, info.st_uid, info.st_gid, AT_SYMLINK_NOFOLLOW))
        if info.st_mode & S_IFMT != S_IFLNK {
            // After chown, which clears setuid and setgid bits.
            try sys("tmpcopyup: chmod \(path)", fchmodat(target, name, mode, 0))
        }
    }

    static func copyBytes(from source: Int32, to target: Int32, path: String) throws {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = read(source, &buffer, buffer.count)
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw VesselError.system("tmpcopyup: read \(path)") }
            if count == 0 { return }
            var written = 0
            while written < count {
                let n = buffer[written..<count].withUnsafeBytes { write(target, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw VesselError.system("tmpcopyup: write the copy of \(path)") }
                written += n
            }
        }
    }
}
