import Errors
import ArgumentParser
import CVessel
import FoundationEssentials
import Glibc
import Linux
import OSKit
import OCI
import Runtime

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List containers.")
    @OptionGroup var global: GlobalOptions
    @Option(name: [.short, .long], help: "table or json") var format: ListFormat = .table
    @Flag(name: [.short, .long], help: "Print only the ids.") var quiet = false

    enum ListFormat: String, ExpressibleByArgument { case table, json }

    func run() throws {
        try perform(global) {
            let states = try lifecycle(global).list()
            if quiet {
                states.forEach { print($0.id) }
            } else if format == .json {
                // runc marshals an empty list as null.
                print(states.isEmpty ? "null" : "[" + states.map(\.runcJSON).joined(separator: ",") + "]")
            } else {
                let rows =
                    [["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]]
                    + states.map { [$0.id, "\($0.pid)", $0.status.rawValue, $0.bundle, $0.created, $0.owner.isEmpty ? "root" : $0.owner] }
                // runc's tabwriter: columns of at least 12, 3 spaces of padding, the last unpadded.
                let widths = (0..<6).map { column in max(12, (rows.map { $0[column].count }.max() ?? 0) + 3) }
                for row in rows {
                    let padded = row.dropLast().enumerated().map { $1 + String(repeating: " ", count: widths[$0] - $1.count) }
                    print(padded.joined() + (row.last ?? ""))
                }
            }
        }
    }
}

struct PsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ps", abstract: "List the processes of a container (ps(1) options after the id; default -ef).")
    @OptionGroup var global: GlobalOptions
    @Option(name: [.short, .long], help: "table or json") var format: String = "table"
    @Argument(help: "Container id.") var id: String
    @Argument(parsing: .captureForPassthrough, help: "Options for ps(1).") var psOptions: [String] = []

    func run() throws {
        try perform(global) {
            let pids = try lifecycle(global).processes(containerID(id))
            switch format {
            case "json":
                // As runc (a Go nil slice): no processes is `null`, not `[]`.
                if pids.isEmpty { print("null") } else { try printJSON(pids, indent: nil) }
            case "table":
                let options = psOptions.first == "--" ? Array(psOptions.dropFirst()) : psOptions
                print(try ProcessTable.render(options: options.isEmpty ? ["-ef"] : options, keeping: Set(pids)), terminator: "")
            default:
                throw VesselError.invalidArgument("ps: invalid format \(format.debugDescription): use table or json")
            }
        }
    }
}

struct SpecCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "spec", abstract: "Write a default config.json into the bundle.")
    @OptionGroup var global: GlobalOptions
    @Option(name: [.short, .customLong("bundle")], help: "Bundle directory.") var bundle: String = "."
    @Flag(help: "A config for running without root.") var rootless = false

    func run() throws {
        try perform(global) {
            let path = bundle + "/config.json"
            if FileIO.exists(path) { throw VesselError.invalidArgument("\(path) already exists; remove it first") }
            let spec = DefaultSpec.make(
                rootless: rootless, uid: getuid(), gid: getgid(),
                cgroupNamespace: vessel_is_cgroup2("/sys/fs/cgroup") != 0)
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw VesselError.system("create \(path)") }
            close(fd)
            // Tab-indented, as runc's spec writes it.
            try FileIO.writeAtomically(path, Data(try GoStyleJSON.encode(spec, indent: "\t").utf8))
        }
    }
}

struct FeaturesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "features", abstract: "Print what this runtime implements (JSON).")
    @OptionGroup var global: GlobalOptions

    func run() throws {
        try perform(global) {
            let last = Int(vessel_last_cap())
            var caps: [String] = []
            for number in 0...last {
                if let name = cap_to_name(cap_value_t(number)) {
                    caps.append(String(cString: name).uppercased())
                    cap_free(name)
                }
            }
            let version = Vessel.versionText.split(separator: "\n").last.map { String($0.dropFirst(12)) } ?? ""
            let options = [
                "bind", "rbind", "ro", "rw", "nosuid", "suid", "nodev", "dev", "noexec", "exec", "sync",
                "async", "dirsync", "mand", "nomand", "atime", "noatime", "diratime", "nodiratime",
                "relatime", "norelatime", "strictatime", "nostrictatime", "lazytime", "nolazytime",
                "nosymfollow", "symfollow", "private", "rprivate", "shared", "rshared",
                "slave", "rslave", "unbindable", "runbindable", "remount", "silent", "loud", "defaults",
                "tmpcopyup", "idmap", "ridmap", "rro", "rrw", "rnosuid", "rsuid", "rnodev", "rdev", "rnoexec",
                "rexec", "rnoatime", "ratime", "rrelatime", "rnorelatime", "rnodiratime", "rdiratime",
                "rstrictatime", "rnostrictatime", "rnosymfollow", "rsymfollow",
            ]
            var features = Features(capabilities: caps, mountOptions: options, libseccompVersion: version)
            features.linux.apparmor.enabled = SecurityModules.appArmorEnabled
            features.linux.selinux.enabled = SecurityModules.seLinuxEnabled
            try printJSON(features)
        }
    }
}

/// runc commands vessel does not implement yet: one clear line, exit 1.
enum UnsupportedCommand {
    static func refuse(_ name: String, _ global: GlobalOptions) throws {
        try perform(global) {
            throw VesselError.unsupported("vessel \(name) is not supported: it needs CRIU, which cannot run on this kernel (criu check fails), so vessel does not offer it")
        }
    }

    struct Checkpoint: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "checkpoint", abstract: "Not supported (no CRIU).")
        @OptionGroup var global: GlobalOptions
        @Argument(parsing: .allUnrecognized) var rest: [String] = []
        func run() throws { try refuse("checkpoint", global) }
    }

    struct Restore: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "restore", abstract: "Not supported (no CRIU).")
        @OptionGroup var global: GlobalOptions
        @Argument(parsing: .allUnrecognized) var rest: [String] = []
        func run() throws { try refuse("restore", global) }
    }
}
