import XCTest

/// /dev as the container sees it: the default nodes and mounts, and
/// `linux.devices` with its fileMode, uid and gid, against the device cgroup.
final class DifferentialDevicesTests: XCTestCase {
    /// Each entry's name, type, mode, major:minor (hex) and owner.
    static func described(_ paths: String) -> String {
        "for f in \(paths); do stat -c '%n %F %a %t:%T %u:%g' $f; done"
    }

    static func device(_ path: String, type: String = "c", major: Int = 1, minor: Int = 3, extra: [String: Any] = [:]) -> [String: Any] {
        ["path": path, "type": type, "major": major, "minor": minor].merging(extra) { $1 }
    }

    /// The config's devices, and a device cgroup rule allowing `allow` (c 1:3 by default) after runc's deny-all.
    static func devices(_ list: [[String: Any]], allowing allow: [String: Any]? = nil) -> (inout [String: Any], DiffSandbox) -> Void {
        { spec, _ in
            spec.setLinux("devices", list)
            var resources = (spec["linux"] as? [String: Any])?["resources"] as? [String: Any] ?? [:]
            var rules = resources["devices"] as? [[String: Any]] ?? []
            if let allow { rules.append(allow) }
            resources["devices"] = rules
            spec.setLinux("resources", resources)
        }
    }

    static var allowNull: [String: Any] { ["allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"] }

    static func seen(
        _ name: String, _ script: String, ownRootfs: Bool = false,
        config: @escaping (inout [String: Any], DiffSandbox) -> Void
    ) -> DiffScenario {
        DiffScenario(name, script: script, ownRootfs: ownRootfs, config: config, steps: [.exact("run -b {bundle} {id}")])
    }

    static var scenarios: [DiffScenario] {
        [
            seen("dev: the default nodes, links and their modes", described("/dev/*")) { _, _ in },
            seen(
                "dev: the default devices can be used",
                "head -c 4 /dev/zero | wc -c; echo x > /dev/null; echo null $?; head -c 4 /dev/urandom | wc -c; echo x > /dev/full; echo full $?"
            ) { _, _ in },
            seen("dev: its mounts", "grep ' /dev' /proc/self/mounts | cut -d' ' -f2- | sed 's/[0-9][0-9]*/N/g'") { _, _ in },
            seen(
                "devices: fileMode, uid and gid", described("/dev/mynull") + "; echo x > /dev/mynull; echo write $?",
                config: devices([device("/dev/mynull", extra: ["fileMode": 0o640, "uid": 1000, "gid": 1001])], allowing: allowNull)),
            seen(
                "devices: without fileMode, uid or gid", described("/dev/mynull"),
                config: devices([device("/dev/mynull")], allowing: allowNull)),
            seen(
                "devices: a node the device cgroup denies", described("/dev/mynull") + "; cat /dev/mynull; echo read $?",
                config: devices([device("/dev/mynull")])),
            seen(
                "devices: a block device", described("/dev/myloop"),
                config: devices([device("/dev/myloop", type: "b", major: 7, minor: 200)])),
            seen("devices: type u", described("/dev/myu"), config: devices([device("/dev/myu", type: "u")])),
            seen("devices: an unknown type", "echo ran", config: devices([device("/dev/myx", type: "x")])),
            seen("devices: in a subdirectory of /dev", described("/dev/sub/mynull"), config: devices([device("/dev/sub/mynull")])),
            seen("devices: a path outside /dev", described("/run/mynull"), ownRootfs: true, config: devices([device("/run/mynull")])),
            seen("devices: a relative path", "echo ran", config: devices([device("dev/rel")])),
            seen(
                "devices: one that replaces a default node", described("/dev/null"),
                config: devices([device("/dev/null", extra: ["fileMode": 0o600])], allowing: allowNull)),
            // runc's dev.bats: a default device given again, with no mode or owner.
            seen(
                "devices: /dev/tty given again without a mode", described("/dev/tty"),
                config: devices([device("/dev/tty", major: 5, minor: 0)])),
        ]
    }

    func testScenarios() throws { try DifferentialRunner.run(Self.scenarios) }
}
