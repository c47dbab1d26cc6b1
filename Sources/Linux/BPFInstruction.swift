import OSKit
// One eBPF instruction (`struct bpf_insn`, <linux/bpf.h>): 8 bytes, little
// endian: opcode, dst and src registers in one byte, a 16-bit jump offset,
// a 32-bit immediate. Only the instructions the device filter needs.
public struct BPFInstruction: Equatable, Sendable {
    public enum Register: UInt8, Sendable {
        case r0, r1, r2, r3, r4, r5
    }

    public let code: UInt8
    public let dst: Register
    public let src: Register
    public let offset: Int16
    public let immediate: Int32

    init(code: UInt8, dst: Register = .r0, src: Register = .r0, offset: Int16 = 0, immediate: Int32 = 0) {
        self.code = code
        self.dst = dst
        self.src = src
        self.offset = offset
        self.immediate = immediate
    }

    // Opcode = class | operation | source (<linux/bpf_common.h>, <linux/bpf.h>).
    enum Opcode {
        static let loadWordFromMemory: UInt8 = 0x01 | 0x00 | 0x60  // BPF_LDX | BPF_W | BPF_MEM
        static let move32Register: UInt8 = 0x04 | 0xb0 | 0x08  // BPF_ALU | BPF_MOV | BPF_X
        static let and32Immediate: UInt8 = 0x04 | 0x50 | 0x00  // BPF_ALU | BPF_AND | BPF_K
        static let shiftRight32Immediate: UInt8 = 0x04 | 0x70  // BPF_ALU | BPF_RSH | BPF_K
        static let move64Immediate: UInt8 = 0x07 | 0xb0 | 0x00  // BPF_ALU64 | BPF_MOV | BPF_K
        static let jumpNotEqual32Immediate: UInt8 = 0x06 | 0x50  // BPF_JMP32 | BPF_JNE | BPF_K
        static let jumpNotEqual32Register: UInt8 = 0x06 | 0x50 | 0x08  // BPF_JMP32 | BPF_JNE | BPF_X
        static let jumpEqual32Immediate: UInt8 = 0x06 | 0x10  // BPF_JMP32 | BPF_JEQ | BPF_K
        static let exit: UInt8 = 0x05 | 0x90  // BPF_JMP | BPF_EXIT
    }

    /// dst = *(u32 *)(src + offset)
    static func loadWord(_ dst: Register, from src: Register, offset: Int16) -> Self {
        Self(code: Opcode.loadWordFromMemory, dst: dst, src: src, offset: offset)
    }

    /// (u32) dst = (u32) src
    static func move32(_ dst: Register, _ src: Register) -> Self {
        Self(code: Opcode.move32Register, dst: dst, src: src)
    }

    /// (u32) dst &= mask
    static func and32(_ dst: Register, _ mask: Int32) -> Self {
        Self(code: Opcode.and32Immediate, dst: dst, immediate: mask)
    }

    /// (u32) dst >>= bits
    static func shiftRight32(_ dst: Register, _ bits: Int32) -> Self {
        Self(code: Opcode.shiftRight32Immediate, dst: dst, immediate: bits)
    }

    /// dst = value
    static func move64(_ dst: Register, _ value: Int32) -> Self {
        Self(code: Opcode.move64Immediate, dst: dst, immediate: value)
    }

    /// if (u32) register != (u32) value: skip `offset` instructions
    static func jumpIfNotEqual(_ register: Register, _ value: UInt32, skip offset: Int16) -> Self {
        Self(code: Opcode.jumpNotEqual32Immediate, dst: register, offset: offset, immediate: Int32(bitPattern: value))
    }

    /// if (u32) register != (u32) other: skip `offset` instructions
    static func jumpIfNotEqual(_ register: Register, _ other: Register, skip offset: Int16) -> Self {
        Self(code: Opcode.jumpNotEqual32Register, dst: register, src: other, offset: offset)
    }

    /// if (u32) register == (u32) value: skip `offset` instructions
    static func jumpIfEqual(_ register: Register, _ value: UInt32, skip offset: Int16) -> Self {
        Self(code: Opcode.jumpEqual32Immediate, dst: register, offset: offset, immediate: Int32(bitPattern: value))
    }

    static let exit = Self(code: Opcode.exit)

    var isJump: Bool {
        [Opcode.jumpNotEqual32Immediate, Opcode.jumpNotEqual32Register, Opcode.jumpEqual32Immediate].contains(code)
    }

    /// The same instruction with its jump offset set.
    func skipping(_ offset: Int16) -> Self {
        Self(code: code, dst: dst, src: src, offset: offset, immediate: immediate)
    }

    /// The 8 bytes of `struct bpf_insn`.
    public var bytes: [UInt8] {
        let offsetBits = UInt16(bitPattern: offset)
        let immediateBits = UInt32(bitPattern: immediate)
        return [code, dst.rawValue | src.rawValue << 4, UInt8(offsetBits & 0xff), UInt8(offsetBits >> 8)]
            + (0..<4).map { UInt8(truncatingIfNeeded: immediateBits >> ($0 * 8)) }
    }
}
