import Errors

/// A memory amount as `runc update` reads it (docker/go-units'
/// RAMInBytes): digits with an optional fraction, an optional space, then
/// an optional k, m, g, t or p (powers of 1024, any case), optional i and
/// optional b: `100m`, `1.5G`, `512 KiB`, `4096`. `-1` means unlimited.
public enum MemorySize {
    static let multipliers: [Character: Double] = ["k": 0x1p10, "m": 0x1p20, "g": 0x1p30, "t": 0x1p40, "p": 0x1p50]

    public static func parse(_ text: String) -> Int64? {
        if text == "-1" { return -1 }
        var rest = Substring(text)
        let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
        rest = rest.dropFirst(number.count)
        // One dot at most, digits on both sides: go-units' \d+(\.\d+)* that ParseFloat takes.
        let parts = number.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, parts.allSatisfy({ !$0.isEmpty }), let value = Double(number) else { return nil }
        if rest.first == " " { rest = rest.dropFirst() }
        var multiplier = 1.0
        if let unit = rest.first.map({ Character($0.lowercased()) }), let factor = multipliers[unit] {
            multiplier = factor
            rest = rest.dropFirst()
        }
        if rest.first == "i" || rest.first == "I" { rest = rest.dropFirst() }
        if rest.first == "b" || rest.first == "B" { rest = rest.dropFirst() }
        let bytes = value * multiplier
        guard rest.isEmpty, bytes < 0x1p63 else { return nil }
        return Int64(bytes)
    }

    /// The amount, or an error naming the flag as runc's does.
    public static func parse(_ text: String, flag: String) throws(VesselError) -> Int64 {
        guard let bytes = parse(text) else { throw VesselError.invalidArgument("invalid value for \(flag): invalid size: '\(text)'") }
        return bytes
    }
}
