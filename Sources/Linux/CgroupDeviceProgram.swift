import OSKit
import Errors
import CVessel
import Glibc
import SystemPackage

// Puts a DeviceFilter on a cgroup: the cgroup v2 device controller runs it
// on every device open and mknod by a process in the cgroup. Raw bpf(2)
// through the shim; RLIMIT_MEMLOCK is not touched (BPF memory is charged to
// the memory cgroup since Linux 5.11; crun fails here raising it).
public enum CgroupDeviceProgram {
    /// Loads `filter` and attaches it to the cgroup at `directory`, next to
    /// whatever is attached there; returns the program's id. `replacing`
    /// then detaches every other device program of that cgroup, so exactly
    /// one decides, and there is never a moment with none.
    @discardableResult
    public static func attach(_ filter: DeviceFilter, to directory: String, replacing: Bool = false) throws(VesselError) -> UInt32 {
        let cgroupFD = try openCgroup(directory)
        defer { close(cgroupFD) }
        if !replacing, let id = attachLoadedCopy(of: filter.bytecode, to: cgroupFD, directory: directory) { return id }
        let program = try load(filter)
        defer { close(program) }
        var id: UInt32 = 0
        try sys("BPF_OBJ_GET_INFO_BY_FD", vessel_bpf_program_id(program, &id))
        try sys("BPF_PROG_ATTACH to \(directory)", vessel_bpf_attach_device_program(program, cgroupFD))
        if replacing {
            for old in try attachedIDs(cgroupFD, directory: directory) where old != id {
                try detach(id: old, cgroupFD, directory: directory)
            }
        }
        return id
    }

    /// How many sibling cgroups `attachLoadedCopy` looks at.
    static let siblingsSearched = 8

    /// Attaches a program already loaded with exactly these instructions
    /// (as the kernel keeps them) and attached to a sibling of the cgroup
    /// (another container's, under the same parent), and returns its id;
    /// nil if there is none or it does not attach. A kernel program is
    /// immutable and may serve several cgroups: the filter is the same
    /// code, and its verification (most of a load's 0.1 to 0.2 ms) is not
    /// paid again for each container of a busy host. Never one already on
    /// this cgroup: the kernel attaches a program to a cgroup once.
    static func attachLoadedCopy(of bytecode: [UInt8], to cgroupFD: Int32, directory: String) -> UInt32? {
        guard let slash = directory.lastIndex(of: "/"), slash != directory.startIndex else { return nil }
        let parent = String(directory[..<slash])
        let name = String(directory[directory.index(after: slash)...])
        let siblings = FileIO.listSubdirectories(parent).filter { $0 != name }.prefix(siblingsSearched)
        guard !siblings.isEmpty, let own = try? attachedIDs(cgroupFD, directory: directory) else { return nil }
        let count = UInt32(bytecode.count / 8)
        for sibling in siblings {
            guard let ids = try? attachedIDs(parent + "/" + sibling) else { continue }
            for id in ids where !own.contains(id) {
                let program = vessel_bpf_program_fd(id)
                guard program >= 0 else { continue }
                defer { close(program) }
                let same = bytecode.withUnsafeBytes { vessel_bpf_device_program_is(program, $0.baseAddress, count) } == 1
                if same && vessel_bpf_attach_device_program(program, cgroupFD) == 0 { return id }
            }
        }
        return nil
    }

    /// Detaches the program `id` from the cgroup at `directory`.
    public static func detach(id: UInt32, from directory: String) throws(VesselError) {
        let cgroupFD = try openCgroup(directory)
        defer { close(cgroupFD) }
        try detach(id: id, cgroupFD, directory: directory)
    }

    /// The ids of the device programs attached to the cgroup itself.
    public static func attachedIDs(_ directory: String) throws(VesselError) -> [UInt32] {
        let cgroupFD = try openCgroup(directory)
        defer { close(cgroupFD) }
        return try attachedIDs(cgroupFD, directory: directory)
    }

    static func openCgroup(_ directory: String) throws(VesselError) -> Int32 {
        try sys("open \(directory)", open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC))
    }

    static func load(_ filter: DeviceFilter) throws(VesselError) -> Int32 {
        let bytecode = filter.bytecode
        let count = UInt32(bytecode.count / 8)
        let fd = bytecode.withUnsafeBytes { vessel_bpf_load_device_program($0.baseAddress, count, nil, 0) }
        if fd >= 0 { return fd }
        let failure = Errno(rawValue: errno)
        // A refusal by the verifier: load again for its log, whose last
        // line says why (only on failure: the log costs time).
        guard failure == .invalidArgument || failure == .permissionDenied else {
            throw VesselError.system("BPF_PROG_LOAD", errno: failure)
        }
        var log = [CChar](repeating: 0, count: 1 << 16)
        let retry = bytecode.withUnsafeBytes { code in
            log.withUnsafeMutableBufferPointer {
                vessel_bpf_load_device_program(code.baseAddress, count, $0.baseAddress, UInt32($0.count))
            }
        }
        if retry >= 0 { return retry }
        let text = String(decoding: log.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let reason = text.split(separator: "\n").last.map { " (verifier: \($0))" } ?? ""
        throw VesselError.system("BPF_PROG_LOAD" + reason, errno: failure)
    }

    static func attachedIDs(_ cgroupFD: Int32, directory: String) throws(VesselError) -> [UInt32] {
        var ids = [UInt32](repeating: 0, count: 16)
        while true {
            var count = UInt32(ids.count)
            let result = ids.withUnsafeMutableBufferPointer { vessel_bpf_query_device_programs(cgroupFD, $0.baseAddress, &count) }
            if result == 0 { return Array(ids.prefix(Int(count))) }
            guard errno == ENOSPC, count > ids.count else { throw VesselError.system("BPF_PROG_QUERY \(directory)") }
            ids = [UInt32](repeating: 0, count: Int(count))
        }
    }

    static func detach(id: UInt32, _ cgroupFD: Int32, directory: String) throws(VesselError) {
        let program = vessel_bpf_program_fd(id)
        if program < 0 && errno == ENOENT { return }  // already gone
        try sys("BPF_PROG_GET_FD_BY_ID \(id)", program)
        defer { close(program) }
        if vessel_bpf_detach_device_program(program, cgroupFD) != 0 && errno != ENOENT {
            throw VesselError.system("BPF_PROG_DETACH \(id) from \(directory)")
        }
    }
}

extension Cgroup {
    /// Puts `filter` on this cgroup (replacing the device programs there
    /// with `replacing`); returns the program's id. A failure is one line
    /// naming the config field: a container never runs without its filter.
    @discardableResult
    public func setDeviceFilter(_ filter: DeviceFilter, replacing: Bool = false) throws(VesselError) -> UInt32 {
        do {
            return try CgroupDeviceProgram.attach(filter, to: directory, replacing: replacing)
        } catch {
            throw VesselError(error).wrapped("config.json: linux.resources.devices: cannot load the device filter", field: "linux.resources.devices")
        }
    }
}
