import XCTest

/// kill: signal forms, 0, --all, and containers in each state.
final class DifferentialKillTests: XCTestCase {
    /// Appends a line per signal it catches; /tmp/ready once the traps are set.
    static let trapper = """
        trap 'echo TERM >> /tmp/got; exit 7' TERM; trap 'echo USR1 >> /tmp/got' USR1; trap 'echo HUP >> /tmp/got' HUP
        touch /tmp/ready; while :; do sleep 0.05; done
        """

    static func withTrapper(_ name: String, _ steps: [DiffStep]) -> DiffScenario {
        DiffScenario(name, script: trapper, steps: [.runDetached, .waitFile("ready")] + steps + [.forceDelete])
    }

    /// A container in the host's pid namespace with two processes exec'd beside its init, then `steps`.
    static func inHostPIDNamespace(_ name: String, _ steps: [DiffStep]) -> DiffScenario {
        DiffScenario(
            name, script: "sleep 30", config: { spec, _ in spec.changeNamespace("pid", remove: true) },
            steps: [
                .runDetached, .cmd("exec -d {id} sleep 30"), .cmd("exec -d {id} sleep 30"),
                .host("sed -n 's/^0:://p' /proc/" + DiffStep.statePid + "/cgroup > {host}/cgroup", .outcome),
            ] + steps + [.forceDelete])
    }

    /// How many processes the container's cgroup (as recorded) still holds.
    static let cgroupMembers = DiffStep.host("cat /sys/fs/cgroup$(cat {host}/cgroup)/cgroup.procs 2>/dev/null | wc -l")

    static var scenarios: [DiffScenario] {
        [
            inHostPIDNamespace("kill: KILL in the host's pid namespace", [.cmd("kill {id} KILL"), .wait("stopped"), .sleep(0.3), cgroupMembers]),
            inHostPIDNamespace(
                "kill: KILL in the host's pid namespace, the init gone",
                [.host("kill -9 $(head -1 /sys/fs/cgroup$(cat {host}/cgroup)/cgroup.procs)", .outcome), .wait("stopped"), .cmd("kill {id} KILL"), .sleep(0.3), cgroupMembers]),
            inHostPIDNamespace(
                "delete: in the host's pid namespace, the init gone",
                [
                    .host("kill -9 $(head -1 /sys/fs/cgroup$(cat {host}/cgroup)/cgroup.procs)", .outcome), .wait("stopped"), .cmd("delete {id}"), .sleep(0.3), cgroupMembers,
                    .stateIt,
                ]),
            withTrapper("kill: the default signal is TERM", [.cmd("kill {id}"), .wait("stopped")]),
            withTrapper(
                "kill: a signal by name, SIG name, number and in lower case",
                [
                    .cmd("kill {id} USR1"), .sleep(0.3), .cmd("kill {id} SIGUSR1"), .sleep(0.3),
                    .cmd("kill {id} 10"), .sleep(0.3), .cmd("kill {id} usr1"), .sleep(0.3), .cmd("kill {id} sighup"), .sleep(0.3),
                ]),
            withTrapper("kill: signal 0 checks the container", [.cmd("kill {id} 0"), .stateIt, .cmd("kill {id} KILL"), .wait("stopped"), .cmd("kill {id} 0")]),
            withTrapper("kill: an unknown signal name", [.cmd("kill {id} NOSUCHSIG"), .stateIt]),
            withTrapper("kill: a signal number out of range", [.cmd("kill {id} 99"), .stateIt]),
            withTrapper("kill: a negative signal number", [.cmd("kill {id} -9"), .stateIt]),
            withTrapper("kill: too many arguments", [.cmd("kill {id} TERM HUP"), .stateIt]),
            // Every form runc accepts for one signal, each killing the container.
            withTrapper("kill: KILL", [.cmd("kill {id} KILL"), .wait("stopped")]),
            withTrapper("kill: SIGKILL", [.cmd("kill {id} SIGKILL"), .wait("stopped")]),
            withTrapper("kill: 9", [.cmd("kill {id} 9"), .wait("stopped")]),
            withTrapper("kill: sigkill in lower case", [.cmd("kill {id} sigkill"), .wait("stopped")]),
            withTrapper("kill: SigKill in mixed case", [.cmd("kill {id} SigKill"), .wait("stopped")]),
            withTrapper("kill: +9, a number with a sign", [.cmd("kill {id} +9"), .wait("stopped")]),
            withTrapper("kill: SIGRTMIN+1 by name", [.cmd("kill {id} SIGRTMIN+1"), .sleep(0.3), .stateIt]),
            // The trapper, pid 1 of its namespace, has no handler for these: the kernel drops them.
            withTrapper("kill: a real-time signal by number", [.cmd("kill {id} 35"), .sleep(0.3), .stateIt]),
            withTrapper("kill: 64, the last signal", [.cmd("kill {id} 64"), .sleep(0.3), .stateIt]),
            withTrapper("kill: 65, past the last signal", [.cmd("kill {id} 65"), .stateIt]),
            withTrapper("kill: an empty signal is the default", [.cmd("kill {id} ''"), .wait("stopped")]),
            withTrapper("kill: SIG alone", [.cmd("kill {id} SIG"), .stateIt]),
            DiffScenario(
                "kill --all: every process of the container", script: "sleep 30 & sleep 30 & touch /tmp/ready; wait",
                steps: [.runDetached, .waitFile("ready"), .cmd("kill --all {id} KILL"), .wait("stopped"), .cmd("delete {id}")]),
            DiffScenario(
                "kill -a: a created container", script: "sleep 30",
                steps: [.createIt, .cmd("kill -a {id} KILL"), .wait("stopped"), .cmd("delete {id}")]),
            DiffScenario(
                "kill: a created container", script: "sleep 30",
                steps: [.createIt, .cmd("kill {id} KILL"), .wait("stopped"), .stateIt, .cmd("delete {id}")]),
            DiffScenario(
                "kill: a stopped container", script: "true",
                steps: [.runDetached, .wait("stopped"), .cmd("kill {id} KILL"), .cmd("delete {id}")]),
            DiffScenario(
                "kill: a paused container", script: "sleep 30",
                steps: [.runDetached, .cmd("pause {id}"), .cmd("kill {id} KILL"), .wait("stopped"), .stateIt, .cmd("delete {id}")]),
            // The handshake makes sure TERM reaches sleep, not the runtime's init before exec.
            DiffScenario(
                "kill: TERM to an init without a handler", script: "touch /tmp/ready; exec sleep 30",
                steps: [.runDetached, .waitFile("ready"), .sleep(0.1), .cmd("kill {id} TERM"), .sleep(0.3), .stateIt, .forceDelete]),
        ]
    }

    func testScenarios() throws { try DifferentialRunner.run(Self.scenarios) }
}
