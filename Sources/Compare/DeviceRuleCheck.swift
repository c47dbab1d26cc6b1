import Linux
import OSKit

// Whether a bundle's device rules (linux.resources.devices, linux.devices
// and runc's defaults, as vessel's eBPF filter gets them) let the container
// access a device: the last matching rule wins; an allow rule matches a
// request within its access, a deny rule one that overlaps it.
enum DeviceRuleCheck {
    static func allows(
        _ rules: [DeviceFilter.Rule], type: DeviceFilter.DeviceType, major: UInt32, minor: UInt32,
        access: DeviceFilter.Access
    ) -> Bool {
        for rule in rules.reversed() where matches(rule, type: type, major: major, minor: minor, access: access) {
            return rule.allow
        }
        return false
    }

    static func matches(
        _ rule: DeviceFilter.Rule, type: DeviceFilter.DeviceType, major: UInt32, minor: UInt32,
        access: DeviceFilter.Access
    ) -> Bool {
        guard rule.type == nil || rule.type == type, rule.major == nil || rule.major == major,
            rule.minor == nil || rule.minor == minor
        else { return false }
        return rule.allow ? rule.access.isSuperset(of: access) : !rule.access.isDisjoint(with: access)
    }

    /// "vda 254:0" -> (254, 0): the first MAJOR:MINOR word.
    static func numbers(in text: String) -> (major: UInt32, minor: UInt32)? {
        for word in text.split(separator: " ") {
            let parts = word.split(separator: ":")
            if parts.count == 2, let major = UInt32(parts[0]), let minor = UInt32(parts[1]) { return (major, minor) }
        }
        return nil
    }
}
