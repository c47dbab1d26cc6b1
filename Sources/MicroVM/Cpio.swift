// The "newc" cpio format the kernel unpacks as an initramfs: a 110-byte
// ASCII header per entry (hex fields), the name, the data, each padded to
// four bytes, and a TRAILER!!! entry at the end.
public struct CpioArchive {
    public private(set) var bytes: [UInt8] = []
    private var inode: UInt32 = 1

    public init() {}

    public mutating func directory(_ path: String, mode: UInt32 = 0o755) {
        append(path, mode: 0o040000 | mode, data: [])
    }

    public mutating func file(_ path: String, mode: UInt32, data: [UInt8]) {
        append(path, mode: 0o100000 | mode, data: data)
    }

    public mutating func symlink(_ path: String, target: String) {
        append(path, mode: 0o120000 | 0o777, data: Array(target.utf8))
    }

    public mutating func finish() {
        append("TRAILER!!!", mode: 0, data: [], links: 1)
    }

    private mutating func append(_ path: String, mode: UInt32, data: [UInt8], links: UInt32? = nil) {
        let name = Array(path.utf8) + [0]
        let fields: [UInt32] = [
            inode, mode, 0, 0, links ?? (mode & 0o040000 != 0 ? 2 : 1), 0,
            UInt32(data.count), 0, 0, 0, 0, UInt32(name.count), 0,
        ]
        inode += 1
        bytes += Array("070701".utf8)
        for field in fields { bytes += Self.hex8(field) }
        bytes += name
        pad()
        bytes += data
        pad()
    }

    private mutating func pad() {
        while bytes.count % 4 != 0 { bytes.append(0) }
    }

    static func hex8(_ value: UInt32) -> [UInt8] {
        let digits = Array("0123456789abcdef".utf8)
        return (0..<8).reversed().map { digits[Int((value >> (UInt32($0) * 4)) & 0xf)] }
    }
}
