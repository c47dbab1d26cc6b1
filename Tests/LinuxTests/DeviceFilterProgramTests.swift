import Errors
import Linux
import OSKit
import OCI
import XCTest

/// Runs device filter bytecode as the kernel would, for the opcodes the
/// generator emits, and checks what the verifier checks that could bite:
/// jumps forward and in bounds, every instruction reachable, an exit at the end.
struct DeviceProgramInterpreter {
    struct Instruction {
        let code: UInt8, dst: Int, src: Int, offset: Int, immediate: Int32
    }

    let instructions: [Instruction]

    init(bytecode: [UInt8]) throws {
        guard bytecode.count % 8 == 0, !bytecode.isEmpty else { throw Failure("bytecode of \(bytecode.count) bytes") }
        instructions = stride(from: 0, to: bytecode.count, by: 8).map { at in
            let offset = Int16(bitPattern: UInt16(bytecode[at + 2]) | UInt16(bytecode[at + 3]) << 8)
            let immediate = (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytecode[at + 4 + $1]) << ($1 * 8) }
            return Instruction(
                code: bytecode[at], dst: Int(bytecode[at + 1] & 0xf), src: Int(bytecode[at + 1] >> 4),
                offset: Int(offset), immediate: Int32(bitPattern: immediate))
        }
        try checkReachability()
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    static let jumps: Set<UInt8> = [0x56, 0x5e, 0x16]

    func checkReachability() throws {
        var reached = Set([0])
        for (index, instruction) in instructions.enumerated() {
            guard reached.contains(index) else { throw Failure("unreachable instruction \(index)") }
            if Self.jumps.contains(instruction.code) {
                guard instruction.offset >= 0, index + 1 + instruction.offset < instructions.count else {
                    throw Failure("jump at \(index) to \(index + 1 + instruction.offset)")
                }
                reached.insert(index + 1 + instruction.offset)
            }
            if instruction.code != 0x95 { reached.insert(index + 1) }
        }
        guard instructions.last?.code == 0x95 else { throw Failure("the program does not end in exit") }
    }

    /// The verdict for one request: 1 allow, 0 deny.
    func run(type: UInt32, access: UInt32, major: UInt32, minor: UInt32) throws -> UInt64 {
        let context = [access << 16 | type, major, minor]
        var registers = [UInt64](repeating: 0, count: 11)
        var pc = 0
        while pc < instructions.count {
            let i = instructions[pc]
            let source32 = UInt32(truncatingIfNeeded: registers[i.src])
            let destination32 = UInt32(truncatingIfNeeded: registers[i.dst])
            let immediate32 = UInt32(bitPattern: i.immediate)
            pc += 1
            switch i.code {
            case 0x61:
                guard i.src == 1, i.offset >= 0, i.offset % 4 == 0, i.offset / 4 < context.count else {
                    throw Failure("load from r\(i.src)+\(i.offset)")
                }
                registers[i.dst] = UInt64(context[i.offset / 4])
            case 0xbc: registers[i.dst] = UInt64(source32)
            case 0x54: registers[i.dst] = UInt64(destination32 & immediate32)
            case 0x74: registers[i.dst] = UInt64(destination32 >> (immediate32 & 31))
            case 0xb7: registers[i.dst] = UInt64(bitPattern: Int64(i.immediate))
            case 0x56: if destination32 != immediate32 { pc += i.offset }
            case 0x5e: if destination32 != source32 { pc += i.offset }
            case 0x16: if destination32 == immediate32 { pc += i.offset }
            case 0x95: return registers[0]
            default: throw Failure("unexpected opcode 0x\(String(i.code, radix: 16)) at \(pc - 1)")
            }
        }
        throw Failure("ran off the end")
    }
}

final class DeviceFilterProgramTests: XCTestCase {
    typealias Rule = Resources.DeviceRule
    static let denyAll = Rule(allow: false, access: "rwm")

    // Request kinds and accesses, as the kernel encodes them.
    static let block: UInt32 = 1, char: UInt32 = 2
    static let mknod: UInt32 = 1, read: UInt32 = 2, write: UInt32 = 4

    struct Case {
        let rules: [Rule]
        let devices: [Device]
        let type: UInt32, access: UInt32, major: UInt32, minor: UInt32
        let allowed: Bool
        let line: UInt

        init(
            _ rules: [Rule], devices: [Device] = [], _ type: UInt32, _ access: UInt32, _ major: UInt32, _ minor: UInt32,
            _ allowed: Bool, line: UInt = #line
        ) {
            self.rules = rules
            self.devices = devices
            self.type = type
            self.access = access
            self.major = major
            self.minor = minor
            self.allowed = allowed
            self.line = line
        }
    }

    func check(_ cases: [Case]) throws {
        for test in cases {
            let filter = try DeviceFilter(resources: test.rules, devices: test.devices)
            let verdict = try DeviceProgramInterpreter(bytecode: filter.bytecode)
                .run(type: test.type, access: test.access, major: test.major, minor: test.minor)
            XCTAssertEqual(
                verdict, test.allowed ? 1 : 0, "type \(test.type) access \(test.access) \(test.major):\(test.minor)",
                line: test.line)
        }
    }

    func testDenyAllKeepsOnlyTheDefaults() throws {
        let rules = [Self.denyAll]
        try check([
            Case(rules, Self.char, Self.read, 1, 1, false),  // /dev/mem
            Case(rules, Self.char, Self.write, 1, 11, false),  // /dev/kmsg
            Case(rules, Self.char, Self.read | Self.write, 10, 232, false),  // /dev/kvm
            Case(rules, Self.block, Self.read, 8, 0, false),  // a disk
            Case(rules, Self.char, Self.mknod, 1, 1, true),  // mknod of anything
            Case(rules, Self.block, Self.mknod, 8, 0, true),
            Case(rules, Self.block, Self.mknod | Self.read, 8, 0, false),
            Case(rules, Self.char, Self.read | Self.write, 1, 3, true),  // null
            Case(rules, Self.char, Self.read, 1, 5, true),  // zero
            Case(rules, Self.char, Self.write, 1, 7, true),  // full
            Case(rules, Self.char, Self.read, 1, 8, true),  // random
            Case(rules, Self.char, Self.read, 1, 9, true),  // urandom
            Case(rules, Self.char, Self.read | Self.write, 5, 0, true),  // tty
            Case(rules, Self.char, Self.read | Self.write, 5, 1, true),  // console
            Case(rules, Self.char, Self.read | Self.write, 5, 2, true),  // ptmx
            Case(rules, Self.char, Self.read | Self.write, 136, 7, true),  // a pty slave
            Case(rules, Self.block, Self.read, 1, 3, false),  // a block 1:3 is not null
            Case(rules, Self.char, Self.read | Self.write, 10, 200, false),  // tun is not a default here
        ])
    }

    func testNoRulesIsDefaultDeny() throws {
        try check([
            Case([], Self.char, Self.read, 1, 1, false),
            Case([], Self.char, Self.read, 1, 3, true),
        ])
    }

    func testAllowRuleMatchesASubsetOfItsAccess() throws {
        let rules = [Self.denyAll, Rule(allow: true, type: "c", major: 1, minor: 11, access: "w")]
        try check([
            Case(rules, Self.char, Self.write, 1, 11, true),
            Case(rules, Self.char, Self.read, 1, 11, false),
            Case(rules, Self.char, Self.read | Self.write, 1, 11, false),
            Case(rules, Self.block, Self.write, 1, 11, false),
            Case(rules, Self.char, Self.write, 1, 12, false),
        ])
    }

    func testDenyRuleMatchesAnOverlapWithItsAccess() throws {
        let rules = [Rule(allow: true, access: "rwm"), Rule(allow: false, type: "c", major: 10, minor: 232, access: "r")]
        try check([
            Case(rules, Self.char, Self.read, 10, 232, false),
            Case(rules, Self.char, Self.read | Self.write, 10, 232, false),
            Case(rules, Self.char, Self.write, 10, 232, true),
            Case(rules, Self.char, Self.read, 1, 1, true),
            Case(rules, Self.block, Self.read, 10, 232, true),
        ])
    }

    func testLastMatchWins() throws {
        let allowThenDeny = [Rule(allow: true, access: "rwm"), Rule(allow: false, type: "c", major: 1, minor: 11)]
        let denyThenAllow = [Rule(allow: false, type: "c", major: 1, minor: 11), Rule(allow: true, access: "rwm")]
        try check([
            Case(allowThenDeny, Self.char, Self.write, 1, 11, false),
            Case(allowThenDeny, Self.char, Self.write, 1, 3, true),
            Case(allowThenDeny, Self.block, Self.read, 8, 0, true),
            Case(denyThenAllow, Self.char, Self.write, 1, 11, true),
            // A deny-all last in the config still leaves the defaults,
            // which come after the config's rules.
            Case([Rule(allow: true, access: "rwm"), Self.denyAll], Self.char, Self.read, 1, 1, false),
            Case([Rule(allow: true, access: "rwm"), Self.denyAll], Self.char, Self.read, 1, 3, true),
        ])
    }

    func testWildcards() throws {
        try check([
            // Any type ("a" or nil), major and minor -1 or nil.
            Case([Rule(allow: true, type: "a", major: 4, minor: -1, access: "r")], Self.char, Self.read, 4, 9, true),
            Case([Rule(allow: true, type: "a", major: 4, minor: -1, access: "r")], Self.block, Self.read, 4, 0, true),
            Case([Rule(allow: true, type: "a", major: 4, minor: -1, access: "r")], Self.block, Self.read, 5, 0, false),
            Case([Rule(allow: true, type: "b", major: -1, minor: 0)], Self.block, Self.read | Self.write, 259, 0, true),
            Case([Rule(allow: true, type: "b", major: -1, minor: 0)], Self.block, Self.read, 259, 1, false),
            // Empty or missing access is rwm.
            Case([Rule(allow: true, type: "c", major: 10, minor: 232, access: "")], Self.char, Self.read | Self.write, 10, 232, true),
            Case([Rule(allow: true, type: "c", major: 10, minor: 232)], Self.char, Self.read | Self.write | Self.mknod, 10, 232, true),
        ])
    }

    func testAllowAll() throws {
        try check([
            Case([Rule(allow: true, access: "rwm")], Self.char, Self.read | Self.write, 1, 1, true),
            Case([Rule(allow: true)], Self.block, Self.read | Self.write, 8, 0, true),
            // Large numbers compare as u32, not sign-extended.
            Case(
                [Self.denyAll, Rule(allow: true, type: "c", major: 4_294_967_295, minor: 2_147_483_648)],
                Self.char, Self.read, 4_294_967_295, 2_147_483_648, true),
            Case(
                [Self.denyAll, Rule(allow: true, type: "c", major: 4_294_967_295, minor: 2_147_483_648)],
                Self.char, Self.read, 4_294_967_295, 0, false),
        ])
    }

    func testLinuxDevicesAreAllowedAfterTheConfigRules() throws {
        let fuse = Device(type: "c", path: "/dev/fuse", major: 10, minor: 229)
        let loop = Device(type: "b", path: "/dev/loop0", major: 7, minor: 0)
        let unbuffered = Device(type: "u", path: "/dev/u", major: 4, minor: 64)
        let fifo = Device(type: "p", path: "/dev/fifo", major: nil, minor: nil)
        let devices = [fuse, loop, unbuffered, fifo]
        try check([
            Case([Self.denyAll], devices: devices, Self.char, Self.read | Self.write, 10, 229, true),
            Case([Self.denyAll], devices: devices, Self.block, Self.read, 7, 0, true),
            Case([Self.denyAll], devices: devices, Self.char, Self.read, 4, 64, true),
            Case([Self.denyAll], devices: devices, Self.char, Self.read, 7, 0, false),
            // A config deny of a listed device loses: linux.devices come later.
            Case([Rule(allow: false, type: "c", major: 10, minor: 229)], devices: devices, Self.char, Self.read, 10, 229, true),
            // A number that is not a u32 allows nothing, rather than anything.
            Case([Self.denyAll], devices: [Device(type: "c", path: "/dev/x", major: -1, minor: -1)], Self.char, Self.read, 1, 1, false),
        ])
    }

    func testEffectiveRuleOrder() throws {
        let fuse = Device(type: "c", path: "/dev/fuse", major: 10, minor: 229)
        let filter = try DeviceFilter(resources: [Self.denyAll], devices: [fuse])
        XCTAssertEqual(filter.rules.first, DeviceFilter.Rule(allow: false, type: nil, access: .all))
        XCTAssertEqual(filter.rules[1], DeviceFilter.Rule(allow: true, type: .char, major: 10, minor: 229))
        XCTAssertEqual(Array(filter.rules.dropFirst(2)), DeviceFilter.defaultAllowed)
        XCTAssertEqual(DeviceFilter.defaultAllowed.count, 11)
    }

    func testInvalidRulesAreRefusedNamingTheField() {
        XCTAssertThrowsError(try DeviceFilter(resources: [Rule(allow: true, type: "c", access: "rwx")], devices: [])) { error in
            XCTAssertEqual(
                error as? VesselError,
                .invalidValue(
                    field: "linux.resources.devices[0].access",
                    reason: #""rwx" has "x"; only r, w and m are allowed"#))
        }
        XCTAssertThrowsError(try DeviceFilter(resources: [Self.denyAll, Rule(allow: true, type: "u")], devices: []))
    }

    func testADenyAllLastEndsTheProgram() throws {
        // Rules after an unconditional one are never emitted (the verifier
        // refuses unreachable code); the interpreter checks reachability.
        let filter = DeviceFilter(rules: [
            DeviceFilter.Rule(allow: true, type: .char, major: 1, minor: 3),
            DeviceFilter.Rule(allow: false, type: nil),
        ])
        XCTAssertEqual(filter.program.count, 6 + 2)
        XCTAssertEqual(try DeviceProgramInterpreter(bytecode: filter.bytecode).run(type: 2, access: 2, major: 1, minor: 3), 0)
    }

    func testInstructionEncoding() {
        // r2 = *(u32 *)(r1 + 0): BPF_LDX|BPF_W|BPF_MEM, dst 2, src 1.
        XCTAssertEqual(Array(DeviceFilter(rules: []).bytecode.prefix(8)), [0x61, 0x12, 0, 0, 0, 0, 0, 0])
        // The end: r0 = 0; exit.
        XCTAssertEqual(
            Array(DeviceFilter(rules: []).bytecode.suffix(16)),
            [0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0])
    }
}
