import Errors
import FoundationEssentials
import Glibc

// Small file helpers on plain system calls: cgroup and /proc files are
// tiny, and going through Foundation's FileManager would cost start-up time.
public enum FileIO {
    public static func read(_ path: String) throws(VesselError) -> String {
        String(decoding: try readBytes(path), as: UTF8.self)
    }

    public static func readBytes(_ path: String) throws(VesselError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw VesselError.system("open \(path)") }
        defer { close(fd) }
        return try readAll(fd, name: path)
    }

    /// Reads an open fd to its end.
    public static func readAll(_ fd: Int32, name: String) throws(VesselError) -> [UInt8] {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw VesselError.system("read \(name)")
            }
            if count == 0 { break }
            bytes.append(contentsOf: buffer[0..<count])
        }
        return bytes
    }

    public static func readData(_ path: String) throws(VesselError) -> Data {
        Data(try read(path).utf8)
    }

    public static func write(_ path: String, _ text: String, flags: Int32 = O_WRONLY | O_TRUNC) throws(VesselError) {
        let fd = open(path, flags | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw VesselError.system("open \(path)") }
        defer { close(fd) }
        let ok = text.utf8CString.withUnsafeBufferPointer { buf in
            Glibc.write(fd, buf.baseAddress, buf.count - 1) == buf.count - 1
        }
        if !ok { throw VesselError.system("write \(path)") }
    }

    /// Writes to a temporary file and renames it over `path`, so readers see
    /// either the old or the new contents, never half.
    public static func writeAtomically(_ path: String, _ data: Data) throws(VesselError) {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw VesselError.system("open \(temporary)") }
        let ok = data.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) == $0.count }
        close(fd)
        if !ok { throw VesselError.system("write \(temporary)") }
        try sys("rename \(temporary)", rename(temporary, path))
    }

    public static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// mkdir -p; existing directories are fine.
    public static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws(VesselError) {
        if isDirectory(path) { return }
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, mode) != 0 && errno != EEXIST { throw VesselError.system("mkdir \(current)") }
        }
        // Something else in the way (a file) gives EEXIST too.
        guard isDirectory(path) else { throw VesselError.system("mkdir \(path)", errno: .notDirectory) }
    }

    /// rm -rf for the runtime's own state directories.
    public static func removeTree(_ path: String) {
        guard let dir = opendir(path) else {
            unlink(path)
            return
        }
        while let entry = readdir(dir) {
            let name = entryName(entry)
            if name == "." || name == ".." { continue }
            let child = path + "/" + name
            if entry.pointee.d_type == UInt8(DT_DIR) { removeTree(child) } else { unlink(child) }
        }
        closedir(dir)
        rmdir(path)
    }

    private static func entryName(_ entry: UnsafeMutablePointer<dirent>) -> String {
        withUnsafeBytes(of: entry.pointee.d_name) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
    }

    public static func listDirectory(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = entryName(entry)
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    public static func readLink(_ path: String) throws(VesselError) -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX))
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count >= 0 else { throw VesselError.system("readlink \(path)") }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public static func realPath(_ path: String) throws(VesselError) -> String {
        guard let resolved = realpath(path, nil) else { throw VesselError.system("resolve \(path)") }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
