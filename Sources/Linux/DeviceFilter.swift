import OSKit
import Errors
import OCI

// linux.resources.devices as a BPF_PROG_TYPE_CGROUP_DEVICE program, the
// cgroup v2 device controller. Pure: the bytecode is unit-tested by running
// it; CgroupDeviceProgram loads and attaches it.
//
// The kernel passes `struct bpf_cgroup_dev_ctx { u32 access_type; u32 major;
// u32 minor; }` with access_type = access << 16 | type; the program returns 1
// to allow and 0 to deny. As runc: default deny, and the last matching rule
// wins, so the rules are emitted in reverse and the first match returns.
public struct DeviceFilter: Equatable, Sendable {
    public enum DeviceType: UInt32, Sendable {
        case block = 1  // BPF_DEVCG_DEV_BLOCK
        case char = 2  // BPF_DEVCG_DEV_CHAR
    }

    public struct Access: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let mknod = Access(rawValue: 1)  // BPF_DEVCG_ACC_MKNOD
        public static let read = Access(rawValue: 2)  // BPF_DEVCG_ACC_READ
        public static let write = Access(rawValue: 4)  // BPF_DEVCG_ACC_WRITE
        public static let all: Access = [.mknod, .read, .write]

        /// "rwm" letters; nil or "" is all of them. Nil for another letter.
        public init?(letters: String?) {
            guard let letters, !letters.isEmpty else {
                self = .all
                return
            }
            var access: Access = []
            for letter in letters {
                switch letter {
                case "r": access.insert(.read)
                case "w": access.insert(.write)
                case "m": access.insert(.mknod)
                default: return nil
                }
            }
            self = access
        }
    }

    /// One rule; a nil type, major or minor matches any.
    public struct Rule: Equatable, Sendable {
        public var allow: Bool
        public var type: DeviceType?
        public var major: UInt32?
        public var minor: UInt32?
        public var access: Access

        public init(allow: Bool, type: DeviceType?, major: UInt32? = nil, minor: UInt32? = nil, access: Access = .all) {
            self.allow = allow
            self.type = type
            self.major = major
            self.minor = minor
            self.access = access
        }

        /// A linux.resources.devices rule; nil where it is invalid (the
        /// validator rejects those first).
        init?(_ rule: Resources.DeviceRule) {
            let type: DeviceType?
            switch rule.type {
            case nil, "a": type = nil
            case "b": type = .block
            case "c": type = .char
            default: return nil
            }
            guard let access = Access(letters: rule.access),
                let major = Self.number(rule.major), let minor = Self.number(rule.minor)
            else { return nil }
            self.init(allow: rule.allow, type: type, major: major, minor: minor, access: access)
        }

        /// Nil or -1 is the wildcard (.some(nil)); outside u32, invalid (nil).
        static func number(_ value: Int64?) -> UInt32?? {
            guard let value, value != -1 else { return .some(nil) }
            guard let number = UInt32(exactly: value) else { return nil }
            return .some(number)
        }

        /// The "rwm" rule runc adds for a linux.devices entry. A fifo needs
        /// none, and a number outside u32 gets none rather than a wildcard.
        init?(_ device: Device) {
            let type: DeviceType
            switch device.type {
            case "c", "u": type = .char
            case "b": type = .block
            default: return nil
            }
            guard let major = device.major.flatMap(UInt32.init(exactly:)),
                let minor = device.minor.flatMap(UInt32.init(exactly:))
            else { return nil }
            self.init(allow: true, type: type, major: major, minor: minor)
        }

        /// Matches every request: nothing after it (in emit order) can run.
        var matchesAll: Bool { type == nil && major == nil && minor == nil && access == .all }
    }

    /// runc's specconv AllowedDevices: mknod of any node, and the devices
    /// every container gets (null, zero, full, random, urandom, tty,
    /// console, ptmx and the pty slaves).
    public static let defaultAllowed: [Rule] =
        [
            Rule(allow: true, type: .char, access: .mknod),
            Rule(allow: true, type: .block, access: .mknod),
        ]
        + [(1, 3), (1, 5), (1, 7), (1, 8), (1, 9), (5, 0), (5, 1), (5, 2)].map {
            Rule(allow: true, type: .char, major: $0.0, minor: $0.1)
        } + [Rule(allow: true, type: .char, major: 136)]

    /// The effective rules, in config order: linux.resources.devices, then
    /// linux.devices, then the defaults (as runc's specconv builds them).
    public let rules: [Rule]

    public init(rules: [Rule]) {
        self.rules = rules
    }

    public init(resources: [Resources.DeviceRule], devices: [Device]) throws(VesselError) {
        try SpecValidator.validate(deviceRules: resources)
        rules = resources.compactMap(Rule.init) + devices.compactMap(Rule.init) + Self.defaultAllowed
    }

    /// The program: load the context, then one block per rule, last rule
    /// first, then deny. The verifier refuses unreachable code, so emission
    /// stops after a rule that matches everything.
    public var program: [BPFInstruction] {
        var out: [BPFInstruction] = [
            .loadWord(.r2, from: .r1, offset: 0),  // access_type
            .move32(.r3, .r2),
            .and32(.r2, 0xffff),  // r2: type
            .shiftRight32(.r3, 16),  // r3: requested access
            .loadWord(.r4, from: .r1, offset: 4),  // r4: major
            .loadWord(.r5, from: .r1, offset: 8),  // r5: minor
        ]
        for rule in rules.reversed() {
            out += Self.block(for: rule)
            if rule.matchesAll { return out }
        }
        return out + [.move64(.r0, 0), .exit]
    }

    /// The bytes BPF_PROG_LOAD takes (an array of `struct bpf_insn`).
    public var bytecode: [UInt8] { program.flatMap(\.bytes) }

    /// Returns the rule's verdict if the request matches it, else falls
    /// through to the next block. An allow rule matches a request whose
    /// access is a subset of its own; a deny rule one that overlaps its own
    /// (so a partial deny never lets a mixed request through).
    static func block(for rule: Rule) -> [BPFInstruction] {
        var body: [BPFInstruction] = []
        if let type = rule.type { body.append(.jumpIfNotEqual(.r2, type.rawValue, skip: 0)) }
        if rule.access != .all {
            body += [.move32(.r1, .r3), .and32(.r1, Int32(rule.access.rawValue))]
            body.append(rule.allow ? .jumpIfNotEqual(.r1, .r3, skip: 0) : .jumpIfEqual(.r1, 0, skip: 0))
        }
        if let major = rule.major { body.append(.jumpIfNotEqual(.r4, major, skip: 0)) }
        if let minor = rule.minor { body.append(.jumpIfNotEqual(.r5, minor, skip: 0)) }
        body += [.move64(.r0, rule.allow ? 1 : 0), .exit]
        // Every jump goes to the end of the block: the next rule.
        return body.enumerated().map { index, instruction in
            instruction.isJump ? instruction.skipping(Int16(body.count - index - 1)) : instruction
        }
    }
}
