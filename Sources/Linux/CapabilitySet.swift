import OSKit
import Errors
import CVessel
import Glibc
import OCI

// process.capabilities resolved to bit masks. Names the host kernel does not
// know are collected as warnings (the runtime-spec asks runtimes to warn, not
// fail), so the same config runs on older kernels.
public struct CapabilitySet: Equatable, Sendable {
    public var bounding: UInt64 = 0
    public var effective: UInt64 = 0
    public var inheritable: UInt64 = 0
    public var permitted: UInt64 = 0
    public var ambient: UInt64 = 0
    public var unknown: [String] = []

    public init(_ caps: Capabilities?, lastCap: Int = Int(vessel_last_cap())) {
        guard let caps else { return }
        bounding = mask(caps.bounding, lastCap)
        effective = mask(caps.effective, lastCap)
        inheritable = mask(caps.inheritable, lastCap)
        permitted = mask(caps.permitted, lastCap)
        ambient = mask(caps.ambient, lastCap)
    }

    private mutating func mask(_ names: [String]?, _ lastCap: Int) -> UInt64 {
        var bits: UInt64 = 0
        for name in names ?? [] {
            if let number = Self.number(of: name), number <= lastCap {
                bits |= 1 << UInt64(number)
            } else if !unknown.contains(name) {
                unknown.append(name)
            }
        }
        return bits
    }

    /// CAP_SYS_ADMIN -> 21, through libcap's table (it knows names newer
    /// than this code). Nil for a name libcap does not know.
    public static func number(of name: String) -> Int? {
        guard name.hasPrefix("CAP_") else { return nil }
        var value: cap_value_t = 0
        guard cap_from_name(name.lowercased(), &value) == 0 else { return nil }
        return Int(value)
    }

    /// Drops from the bounding set what is not in it; needs CAP_SETPCAP, so
    /// it runs before the user switch.
    public func applyBounding(lastCap: Int = Int(vessel_last_cap())) throws(VesselError) {
        for cap in 0...lastCap where bounding & (1 << UInt64(cap)) == 0 {
            if vessel_capbset_drop(Int32(cap)) != 0 && errno != EINVAL {
                throw VesselError.system("drop capability \(cap) from the bounding set")
            }
        }
    }

    /// Sets effective, permitted and inheritable, then raises ambient.
    public func applyProcessSets() throws(VesselError) {
        try sys("capset", vessel_capset(effective, permitted, inheritable))
        _ = vessel_ambient_clear_all()
        guard ambient != 0 else { return }
        // A capability can only be ambient if it is also permitted and
        // inheritable; like runc, skip the ones that are not.
        for cap in 0..<64 where ambient & (1 << UInt64(cap)) != 0 {
            _ = vessel_ambient_raise(Int32(cap))
        }
    }
}

extension CapabilitySet {
    /// This process's bounding set (CapBnd in /proc/self/status).
    public static func currentBounding() -> UInt64? {
        guard let status = try? FileIO.readBytes("/proc/self/status") else { return nil }
        // By bytes: the file is read on every create and exec.
        let lines = status.split(separator: UInt8(ascii: "\n"))
        guard let line = lines.first(where: { $0.starts(with: "CapBnd:".utf8) }) else { return nil }
        let digits = line.dropFirst(7).drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
        return UInt64(String(decoding: digits, as: UTF8.self), radix: 16)
    }
}
