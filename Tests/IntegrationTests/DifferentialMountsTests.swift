import XCTest

/// config.json's mounts, maskedPaths and readonlyPaths, seen from inside.
/// Targets are directories the shared rootfs already has (/run, /root,
/// /var): a runtime creating a missing one would write into it.
final class DifferentialMountsTests: XCTestCase {
    static let data = ["data/file": "from the host\n"]

    static func mounted(
        _ name: String, _ script: String, files: [String: String] = data, ownRootfs: Bool = false,
        setUp: [DiffStep] = [], after: [DiffStep] = [],
        config: @escaping (inout [String: Any], DiffSandbox) -> Void
    ) -> DiffScenario {
        DiffScenario(
            name, script: script, files: files, ownRootfs: ownRootfs, config: config,
            steps: setUp + [.exact("run -b {bundle} {id}")] + after)
    }

    /// The mount's line in /proc/self/mounts, without the source (a host path).
    static func mountLine(_ target: String) -> String { "grep ' \(target) ' /proc/self/mounts | cut -d' ' -f2-" }

    /// The propagation of /run (bound from the host with `options`) as mountinfo's optional fields show it, numbers as N.
    static func propagation(_ name: String, _ options: [String]) -> DiffScenario {
        mounted(name, "awk '$5 == \"/run\" { for (i = 7; $i != \"-\"; i++) printf \"%s \", $i; print \"end\" }' /proc/self/mountinfo | sed 's/[0-9][0-9]*/N/g'") { spec, box in
            spec.addMount("/run", type: "bind", source: box.host + "/data", options: options)
        }
    }

    /// linux.rootfsPropagation, seen on the root's mountinfo line.
    static func rootfsPropagation(_ name: String, _ value: String) -> DiffScenario {
        mounted(name, "awk '$5 == \"/\" { for (i = 7; $i != \"-\"; i++) printf \"%s \", $i; print \"end\" }' /proc/self/mountinfo | sed 's/[0-9][0-9]*/N/g'") { spec, _ in
            spec.setLinux("rootfsPropagation", value)
        }
    }

    static var scenarios: [DiffScenario] {
        [
            mounted(
                "masked directories and the cgroup mount, as mountinfo names them",
                #"awk '$5 ~ /^\/(proc\/acpi|proc\/scsi|sys\/firmware|sys\/fs\/cgroup)$/ { print $5, $6, $(NF-2), $(NF-1), $NF }' /proc/self/mountinfo"#
            ) { _, _ in },
            mounted("bind: read-only", "cat /run/file; echo new > /run/new; echo write $?; " + mountLine("/run")) { spec, box in
                spec.addMount("/run", type: "bind", source: box.host + "/data", options: ["rbind", "ro"])
            },
            mounted("bind: read-write, seen on the host", "echo written > /run/new; cat /run/file", setUp: []) { spec, box in
                spec.addMount("/run", type: "bind", source: box.host + "/data", options: ["rbind", "rw"])
            },
            mounted("bind: nosuid, nodev, noexec", mountLine("/run")) { spec, box in
                spec.addMount("/run", type: "bind", source: box.host + "/data", options: ["bind", "nosuid", "nodev", "noexec"])
            },
            mounted("bind: without a type", "cat /run/file") { spec, box in
                var mounts = spec["mounts"] as? [[String: Any]] ?? []
                mounts.append(["destination": "/run", "source": box.host + "/data", "options": ["rbind"]])
                spec["mounts"] = mounts
            },
            mounted("bind: a file over a file", "cat /etc/hostname") { spec, box in
                spec.addMount("/etc/hostname", type: "bind", source: box.host + "/data/file", options: ["bind", "ro"])
            },
            mounted(
                "bind: a source relative to the bundle", "cat /run/file",
                setUp: [.host("mkdir {bundle}/rel && echo relative > {bundle}/rel/file", .ignore)]
            ) { spec, _ in
                spec.addMount("/run", type: "bind", source: "rel", options: ["rbind"])
            },
            mounted("bind: a missing source", "echo ran") { spec, box in
                spec.addMount("/run", type: "bind", source: box.host + "/absent", options: ["rbind"])
            },
            mounted("bind: a missing target is created", "cat /newdir/file", ownRootfs: true) { spec, box in
                spec.addMount("/newdir", type: "bind", source: box.host + "/data", options: ["rbind"])
            },
            mounted("bind: an unknown option", "cat /run/file") { spec, box in
                spec.addMount("/run", type: "bind", source: box.host + "/data", options: ["rbind", "ro", "no-such-option"])
            },
            mounted("tmpfs: size and mode", mountLine("/run") + "; stat -c %a /run") { spec, _ in
                spec.addMount("/run", type: "tmpfs", source: "tmpfs", options: ["nosuid", "size=1m", "mode=700"])
            },
            // runc's run.bats: the mode of the directory a tmpfs covers, all of its bits.
            mounted(
                "tmpfs: over a directory with every mode bit, no mode=", "stat -c %A /run", ownRootfs: true,
                setUp: [.host("chmod 7777 {bundle}/rootfs/run", .outcome)]
            ) { spec, _ in
                spec.addMount("/run", type: "tmpfs", source: "tmpfs", options: ["noexec", "nosuid", "nodev", "rprivate"])
            },
            mounted("tmpfs: mode= on a directory the runtime makes", "stat -c %a /run/made", ownRootfs: true) { spec, _ in
                spec.addMount("/run/made", type: "tmpfs", source: "tmpfs", options: ["mode=0444"])
            },
            // runc's mounts.bats: a relative source is the bundle's, whatever the caller's cwd.
            DiffScenario(
                "bind: the source \".\" is the bundle", script: "ls /run/config.json",
                config: { spec, _ in spec.addMount("/run", type: "bind", source: ".", options: ["bind"]) },
                steps: [.host("cd / && {rt} run -b {bundle} {id}")]),
            // runc's userns.bats: bind sources only the host's root may reach
            // (a 0700 directory), for a container whose root is a mapped uid.
            DiffScenario(
                "bind: sources in 0700 directories, in a new user namespace", script: "cat /run/file /root/file", ownRootfs: true,
                config: { spec, box in
                    spec.addRemappedUserNamespace()
                    spec.addMount("/run", type: "bind", source: box.host + "/one/data", options: ["bind"])
                    spec.addMount("/root", type: "bind", source: box.host + "/two/data", options: ["rbind", "ro"])
                },
                steps: [
                    .host(
                        "chown -R 100000:200000 {bundle}/rootfs && for d in one two; do mkdir -p {host}/$d/data && echo $d > {host}/$d/data/file && chmod 700 {host}/$d; done",
                        .outcome),
                    .exact("run -b {bundle} {id}"),
                ]),
            // runc's mounts.bats: tmpcopyup, with each entry's mode kept (runc issue 3991).
            mounted(
                "tmpfs: tmpcopyup copies what it covers, read-only after",
                "find /var/up | sort | while read f; do stat -c '%n %A %u:%g' \"$f\"; done; cat /var/up/file; touch /var/up/new; " + mountLine("/var/up"),
                ownRootfs: true,
                setUp: [
                    .host(
                        "mkdir -p {bundle}/rootfs/var/up/open/deep && chmod 777 {bundle}/rootfs/var/up/open && echo kept > {bundle}/rootfs/var/up/file && chown 7:8 {bundle}/rootfs/var/up/file && chmod 640 {bundle}/rootfs/var/up/file && ln -s /etc/passwd {bundle}/rootfs/var/up/link",
                        .outcome)
                ]
            ) { spec, _ in
                spec.addMount("/var/up", type: "tmpfs", source: "tmpfs", options: ["tmpcopyup", "ro", "nosuid"])
                spec.setProcess("capabilities", ["bounding": ["CAP_DAC_OVERRIDE"], "effective": ["CAP_DAC_OVERRIDE"], "permitted": ["CAP_DAC_OVERRIDE"]])
            },
            mounted("tmpfs: read-only", "touch /run/x; echo touch $?; " + mountLine("/run")) { spec, _ in
                spec.addMount("/run", type: "tmpfs", source: "tmpfs", options: ["ro"])
            },
            mounted("mounts: a relative destination", "ls /run") { spec, _ in
                spec.addMount("run", type: "tmpfs", source: "tmpfs")
            },
            mounted("mounts: an unknown filesystem type", "echo ran") { spec, _ in
                spec.addMount("/run", type: "nosuchfs", source: "none")
            },
            mounted("mounts: later mounts stack on earlier ones", "ls /run; " + mountLine("/run/inner")) { spec, box in
                spec.addMount("/run", type: "tmpfs", source: "tmpfs")
                spec.addMount("/run/inner", type: "bind", source: box.host + "/data", options: ["rbind", "ro"])
            },
            mounted("maskedPaths: a file and a directory", "wc -c < /proc/keys; ls /sys/firmware | wc -l; " + mountLine("/sys/firmware")) { _, _ in },
            // runc's mask.bats: masks hold against writes and umount, on a read-only root too.
            DiffScenario(
                "maskedPaths: a file and directories of the rootfs, from exec", script: "sleep 30",
                config: { spec, _ in spec.setLinux("maskedPaths", ["/etc/passwd", "/var", "/root"]) },
                steps: [
                    .runDetached, .exact("exec {id} cat /etc/passwd"), .exact("exec {id} rm -f /etc/passwd"), .exact("exec {id} umount /etc/passwd"),
                    .exact("exec {id} ls /var"), .exact("exec {id} touch /var/foo"), .exact("exec {id} rm -rf /var"), .exact("exec {id} umount /var"),
                    .forceDelete,
                ]),
            // runc's host-mntns.bats: no mount namespace, so the mounts would be made in the caller's.
            DiffScenario(
                "mounts: in the caller's mount namespace, with a createRuntime hook", ownRootfs: true,
                config: { spec, box in
                    spec.setProcess("args", ["echo", "Hello World"])
                    spec.changeNamespace("mount", remove: true)
                    spec.setLinux("maskedPaths", [String]())
                    spec.setLinux("readonlyPaths", [String]())
                    spec.setHooks(["createRuntime": [["path": "/bin/sh", "args": ["sh", "-c", "touch \(box.out)/hook.$$"]]]])
                }, steps: [.exact("run -b {bundle} {id}"), .forceDelete, .host("ls {out} | wc -l")]),
            mounted(
                "maskedPaths: directories share one tmpfs",
                "[ \"$(stat -c %d /proc/acpi)\" = \"$(stat -c %d /sys/firmware)\" ] && echo shared || echo separate; touch /sys/firmware/x"
            ) { _, _ in },
            mounted("maskedPaths: a path that does not exist", "echo ran") { spec, _ in
                spec.setLinux("maskedPaths", ["/proc/no-such-file"])
            },
            mounted("readonlyPaths: /proc/sys", "echo 1 > /proc/sys/kernel/domainname; echo write $?; " + mountLine("/proc/sys")) { _, _ in },
            mounted("readonlyPaths: a mount under the path", "touch /run/inner/x; echo touch $?; " + mountLine("/run/inner")) { spec, box in
                spec.addMount("/run", type: "tmpfs", source: "tmpfs")
                spec.addMount("/run/inner", type: "bind", source: box.host + "/data", options: ["rbind", "rw"])
                spec.setLinux("readonlyPaths", ["/run"])
            },
            mounted("readonlyPaths: a path that does not exist", "echo ran") { spec, _ in
                spec.setLinux("readonlyPaths", ["/proc/no-such-dir"])
            },
            mounted("root: the rootfs is read-only", "touch /etc/x; echo touch $?; " + mountLine("/")) { _, _ in },
            mounted("root: a relative root.path", "ls /etc", ownRootfs: true) { _, _ in },
            propagation("bind: rprivate", ["rbind", "rprivate"]),
            propagation("bind: private", ["bind", "private"]),
            propagation("bind: rslave", ["rbind", "rslave"]),
            propagation("bind: slave", ["bind", "slave"]),
            propagation("bind: shared", ["bind", "shared"]),
            propagation("bind: rshared", ["rbind", "rshared"]),
            propagation("bind: runbindable", ["rbind", "runbindable"]),
            rootfsPropagation("rootfsPropagation: shared", "shared"),
            rootfsPropagation("rootfsPropagation: private", "private"),
            rootfsPropagation("rootfsPropagation: rslave", "rslave"),
            rootfsPropagation("rootfsPropagation: an unknown value", "sideways"),
            mounted("bind: a directory over a file", "echo ran") { spec, box in
                spec.addMount("/etc/hostname", type: "bind", source: box.host + "/data", options: ["rbind"])
            },
            mounted("bind: a file over a directory", "echo ran") { spec, box in
                spec.addMount("/run", type: "bind", source: box.host + "/data/file", options: ["bind"])
            },
            mounted("root: readonly false lets the container write", "touch /written; echo touch $?; " + mountLine("/"), ownRootfs: true) { spec, _ in
                spec["root"] = ["path": "rootfs", "readonly": false]
            },
            // Where and in which order (options have scenarios of their own).
            mounted("mounts: the default mounts and their order", "cut -d' ' -f2,3 /proc/self/mounts | grep -v '^/tmp '") { _, _ in },
            mounted(
                "mounts: /dev/null given as a symlink to a mask", "wc -c < /proc/keys; echo ran",
                files: ["decoy": "not empty\n"], ownRootfs: true,
                setUp: [.host("rm -rf {bundle}/rootfs/dev && mkdir {bundle}/rootfs/dev && ln -s /run/decoy {bundle}/rootfs/dev/null", .ignore)],
                after: [.host("cat {host}/decoy")]
            ) { spec, box in
                // No tmpfs on /dev, so the rootfs's own /dev, where null is a symlink.
                spec["mounts"] = (spec["mounts"] as? [[String: Any]] ?? []).filter { ($0["destination"] as? String)?.hasPrefix("/dev") != true }
                spec.addMount("/run", type: "bind", source: box.host, options: ["rbind", "rw"])
                spec.setLinux("resources", [String: Any]())
            },
        ]
    }

    func testScenarios() throws { try DifferentialRunner.run(Self.scenarios) }
}
