import Errors
import Glibc

// Cache keys of the VM's parts (the initramfs, templates): a file stands
// for its contents by device, inode, size and modification time, so a new
// build of vessel, a new kernel or an upgraded QEMU gives a new key without
// reading the files; the key text is hashed with 64-bit FNV-1a for a name.
public enum FileIdentity {
    /// "dev:ino:size:mtime" of the file `path` names (links followed).
    public static func of(_ path: String) throws(VesselError) -> String {
        var info = stat()
        guard stat(path, &info) == 0 else { throw VesselError.system("stat \(path)") }
        return "\(info.st_dev):\(info.st_ino):\(info.st_size):\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
    }

    /// 64-bit FNV-1a of the text, in hex: a file name, not a security check
    /// (templates compare their whole key text before use).
    public static func hash(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return String(hash, radix: 16)
    }
}
