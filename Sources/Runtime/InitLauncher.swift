import CVessel
import Errors
import Glibc
import Linux
import OCI
import OSKit

/// Starts the process that enters a container, in place or by re-executing
/// vessel (InitLaunch says which), and returns in the parent. The child of
/// an in-place start never returns here: it goes on as the init
/// (InitEntry.continueInPlace) with `handoff`, which it holds in memory.
struct InitLauncher {
    /// The spawn that re-executes vessel as `vessel init`, with its binary
    /// protected; the in-place spawn is made from it.
    let request: SpawnRequest
    let launch: InitLaunch
    /// The child's end of the init socket.
    let childEnd: Int32
    /// The cgroup directory to clone the child into, if any.
    let cgroup: String?

    struct Started {
        let pid: pid_t
        /// Born in `cgroup` (CLONE_INTO_CGROUP): no cgroup.procs write needed.
        let inCgroup: Bool
        /// The child already holds its hand-off: send it `InitHandoff.inPlace`.
        let inPlace: Bool
    }

    func start(handoff: InitHandoff) throws(VesselError) -> Started {
        if case let .reexec(reason) = launch {
            DebugTrace.step("container init: re-executing vessel: \(reason)")
        } else if let started = try startInPlace(handoff) {
            return started
        }
        let (pid, inCgroup) = try Spawner.spawn(request, intoCgroup: cgroup)
        return Started(pid: pid, inCgroup: inCgroup, inPlace: false)
    }

    /// Nil when it cannot be done here (no trampoline, more than one
    /// thread): the caller re-executes instead.
    private func startInPlace(_ handoff: InitHandoff) throws(VesselError) -> Started? {
        let trampoline: ExecTrampoline
        do {
            trampoline = try ExecTrampoline.make()
        } catch {
            DebugTrace.step("container init: re-executing vessel: \(error)")
            return nil
        }
        defer { trampoline.close() }
        var inPlace = request
        inPlace.inPlace = true
        inPlace.keepFD = trampoline.fd
        inPlace.protectExecutable = false
        inPlace.protectThenJoin = false
        let pid: pid_t, inCgroup: Bool
        do {
            (pid, inCgroup) = try Spawner.spawn(inPlace, intoCgroup: cgroup)
        } catch  where error.errno == .deadlock {
            DebugTrace.step("container init: re-executing vessel: the runtime has more than one thread")
            return nil
        }
        if pid == 0 {
            InitEntry.continueInPlace(handoff, channel: MessageChannel(fd: childEnd), trampoline: trampoline)
        }
        DebugTrace.step("container init: cloned in place")
        return Started(pid: pid, inCgroup: inCgroup, inPlace: true)
    }
}

extension InitLaunch {
    /// `choose` with what the host says: the override variable, whether an
    /// exec label would be applied, the kernel's last capability.
    static func onThisHost(
        process: Process, containerBounding: [Capabilities?] = [], hostUserNamespace: Bool,
        writesOwnProc: Bool, nonRootParent: Bool = false
    ) -> InitLaunch {
        let execLabel =
            (!(process.apparmorProfile ?? "").isEmpty && SecurityModules.appArmorEnabled)
            || (!(process.selinuxLabel ?? "").isEmpty && SecurityModules.seLinuxEnabled)
        return choose(
            process: process, containerBounding: containerBounding, hostUserNamespace: hostUserNamespace,
            writesOwnProc: writesOwnProc, execLabel: execLabel, nonRootParent: nonRootParent,
            forced: getenv(forceReexecVariable) != nil, lastCap: Int(vessel_last_cap()))
    }

    /// For the init of `create`.
    static func forContainer(_ spec: Spec) -> InitLaunch {
        let process = spec.process ?? Process(args: nil)
        let linux = spec.linux ?? LinuxConfig()
        let userNamespace = (linux.namespaces ?? []).first { $0.type == .user }
        let ownUser = userNamespace.map { $0.path.map { !HostPreflight.sameFile($0, "/proc/self/ns/user") } ?? true } ?? false
        // An idmapped mount's namespace is a child of the init's whose maps
        // the init writes (IDMappedUserNamespace): /proc files of its own kind.
        let idmapsMounts = (spec.mounts ?? []).contains { !($0.uidMappings ?? []).isEmpty }
        return onThisHost(
            process: process, hostUserNamespace: !ownUser,
            writesOwnProc: process.oomScoreAdj != nil || linux.timeOffsets != nil || idmapsMounts,
            nonRootParent: geteuid() != 0)
    }
}
