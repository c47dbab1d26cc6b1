import Errors
import CVessel
import FoundationEssentials
import Glibc
import OSKit

// The guest's initramfs: vessel itself as /init (the guest agent), the
// shared libraries it links, and the kernel modules the guest needs. Built
// on first use and cached, keyed by the vessel binary and the kernel, so a
// new build of either gets a new image; only the newest few are kept.
public struct Initramfs {
    /// Load order: each module's dependencies come before it.
    public static let modules = [
        "virtio_ring", "virtio", "virtio_mmio", "netfs", "fscache",
        "9pnet", "9pnet_virtio", "9p", "virtio_console",
        "failover", "net_failover", "virtio_net",
    ]

    let settings: VMSettings
    let binary: String

    public init(settings: VMSettings, binary: String) {
        self.settings = settings
        self.binary = binary
    }

    /// Where this binary's image for this kernel is (or will be) cached.
    public func cachedPath() throws -> String {
        settings.initramfsCache + "/initramfs-\(try cacheKey()).cpio"
    }

    /// The cached image's path, building it when missing.
    public func ensure() throws -> String {
        let path = try cachedPath()
        if FileIO.exists(path) { return path }
        try FileIO.makeDirectories(settings.initramfsCache, mode: 0o700)
        var archive = CpioArchive()
        for directory in ["dev", "proc", "sys", "run", "tmp", "vm", "lib", "lib/modules"] {
            archive.directory(directory)
        }
        archive.file("init", mode: 0o755, data: try Self.stripped(binary))
        var made: Set<String> = ["lib"]
        for library in try Self.sharedLibraries(of: binary) {
            var prefix = ""
            for component in library.split(separator: "/").dropLast() {
                prefix += (prefix.isEmpty ? "" : "/") + component
                if made.insert(prefix).inserted { archive.directory(prefix) }
            }
            archive.file(String(library.dropFirst()), mode: 0o755, data: try Self.stripped(library))
        }
        for module in Self.modules {
            let file = settings.modules + "/\(module).ko"
            // Absent: built into this kernel.
            if FileIO.exists(file) { archive.file("lib/modules/\(module).ko", mode: 0o644, data: try FileIO.readBytes(file)) }
        }
        archive.finish()
        // Two concurrent builds each write their own file; either rename wins.
        let own = path + ".\(getpid())"
        try FileIO.writeAtomically(own, Data(archive.bytes))
        try sys("rename \(own)", rename(own, path))
        pruneCache(keeping: path)
        return path
    }

    /// Keeps the newest images (another vessel binary on this host, say a
    /// debug and a release build, may still use its own) and removes older
    /// ones, left by binaries or kernels that were replaced.
    func pruneCache(keeping path: String, newest: Int = 3) {
        let directory = settings.initramfsCache
        let images = FileIO.listDirectory(directory).filter { $0.hasPrefix("initramfs-") && $0.hasSuffix(".cpio") }
            .map { directory + "/" + $0 }.filter { $0 != path }
        func modified(_ file: String) -> Int {
            var info = stat()
            return stat(file, &info) == 0 ? info.st_mtim.tv_sec : 0
        }
        for stale in images.sorted(by: { modified($0) > modified($1) }).dropFirst(newest) {
            unlink(stale)
        }
    }

    /// Identity of the binary and the kernel: device, inode, size and mtime.
    func cacheKey() throws -> String {
        FileIdentity.hash(try [binary, settings.kernel].map { try FileIdentity.of($0) + ";" }.joined())
    }

    /// The file without its symbol tables and debug sections when binutils'
    /// strip is there: about half of vessel's size, which the guest would
    /// otherwise unpack on every boot.
    static func stripped(_ path: String) throws -> [UInt8] {
        let strip = "/usr/bin/strip"
        guard access(strip, X_OK) == 0 else { return try FileIO.readBytes(path) }
        let copy = "/tmp/vessel-strip-\(getpid())"
        defer { unlink(copy) }
        guard (try? Command.output(strip, ["-o", copy, path])) != nil, let bytes = try? FileIO.readBytes(copy) else {
            return try FileIO.readBytes(path)
        }
        return bytes
    }

    /// The absolute paths `ldd` lists (the loader included).
    public static func sharedLibraries(of binary: String) throws -> [String] {
        let output = try Command.output("/usr/bin/ldd", [binary])
        return output.split(separator: "\n").compactMap { line in
            line.split(whereSeparator: { $0 == " " || $0 == "\t" }).first { $0.hasPrefix("/") }.map(String.init)
        }
    }
}
