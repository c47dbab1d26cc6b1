import Errors
import Glibc
import OSKit
import OCI

// Writes the init's uid_map and gid_map (the parent's job; the init waits
// for them). Root writes any mapping. The kernel lets a user write only one
// line, mapping their own id with size 1, and a gid_map only after "deny"
// in /proc/<pid>/setgroups; anything more (subordinate ids from /etc/subuid
// and /etc/subgid) goes through the setuid newuidmap and newgidmap of
// Debian's uidmap package, which check those files.
struct IDMapWriter {
    let euid: uid_t
    let egid: gid_t

    static var current: IDMapWriter { IDMapWriter(euid: geteuid(), egid: getegid()) }

    enum Method: Equatable {
        case write
        case denySetgroupsThenWrite
        case helper(String)
    }

    /// How one map is written, by root or by the user with id `own`.
    static func method(for maps: [IDMapping], own: UInt32, root: Bool, groups: Bool) -> Method {
        if root { return .write }
        let onlyOwn = maps.count == 1 && maps[0].hostID == own && maps[0].size == 1
        if !onlyOwn { return .helper(groups ? "newgidmap" : "newuidmap") }
        return groups ? .denySetgroupsThenWrite : .write
    }

    func write(pid: pid_t, linux: LinuxConfig) throws {
        try write(
            linux.uidMappings ?? [], pid: pid, file: "uid_map", field: "linux.uidMappings",
            method: Self.method(for: linux.uidMappings ?? [], own: euid, root: euid == 0, groups: false))
        try write(
            linux.gidMappings ?? [], pid: pid, file: "gid_map", field: "linux.gidMappings",
            method: Self.method(for: linux.gidMappings ?? [], own: egid, root: euid == 0, groups: true))
    }

    private func write(_ maps: [IDMapping], pid: pid_t, file: String, field: String, method: Method) throws {
        do {
            switch method {
            case .write:
                try FileIO.write("/proc/\(pid)/\(file)", maps.procMapText)
            case .denySetgroupsThenWrite:
                try FileIO.write("/proc/\(pid)/setgroups", "deny")
                try write(maps, pid: pid, file: file, field: field, method: .write)
            case .helper(let name):
                guard let path = Command.find(name) else {
                    throw VesselError.unsupported(
                        field: field, reason: "mapping more than uid \(euid)'s and gid \(egid)'s own id needs \(name) (Debian's uidmap package), which is not on PATH")
                }
                try Command.run(path, ["\(pid)"] + maps.flatMap { ["\($0.containerID)", "\($0.hostID)", "\($0.size)"] })
            }
        } catch let error as VesselError where error.field == field {
            throw error
        } catch {
            throw VesselError(error).wrapped("config.json: \(field)", field: field)
        }
    }
}
