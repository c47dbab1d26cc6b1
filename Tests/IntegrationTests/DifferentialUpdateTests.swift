import XCTest

/// `update`: each of runc's flags, bad values, and containers in each
/// state. This host's cgroup v2 has no memory, cpu, cpuset, io or pids
/// controller: what is compared is what each runtime does then (the exit
/// code, whether it says why, the container's state afterwards).
final class DifferentialUpdateTests: XCTestCase {
    static func updating(_ name: String, _ flags: String, files: [String: String] = [:], stdin: String? = nil) -> DiffScenario {
        DifferentialExecTests.inSleeper(name, files: files, [.cmd("update \(flags) {id}", .refusal, stdin: stdin), .stateIt])
    }

    static var scenarios: [DiffScenario] {
        [
            updating("update: --memory-swap", "--memory-swap 200000000"),
            updating("update: --memory and --memory-swap", "--memory 100000000 --memory-swap 200000000"),
            updating("update: --memory-swap -1", "--memory-swap -1"),
            updating("update: --memory-reservation", "--memory-reservation 50000000"),
            updating("update: --memory with a unit", "--memory 100m"),
            updating("update: --memory that is not a number", "--memory lots"),
            updating("update: --memory -1", "--memory -1"),
            updating("update: --pids-limit that is not a number", "--pids-limit abc"),
            updating("update: --kernel-memory, ignored", "--kernel-memory 100000000"),
            updating("update: --mem-bw-schema without Intel RDT", "--mem-bw-schema MB:0=100"),
            updating("update: --cpu-share", "--cpu-share 512"),
            updating("update: --cpu-quota and --cpu-period", "--cpu-quota 50000 --cpu-period 100000"),
            updating("update: --cpu-period alone", "--cpu-period 100000"),
            updating("update: --cpu-rt-period and --cpu-rt-runtime", "--cpu-rt-period 1000000 --cpu-rt-runtime 950000"),
            updating("update: --cpuset-cpus", "--cpuset-cpus 0"),
            updating("update: --cpuset-mems", "--cpuset-mems 0"),
            updating("update: --blkio-weight", "--blkio-weight 500"),
            updating("update: --pids-limit -1", "--pids-limit -1"),
            updating("update: --l3-cache-schema without Intel RDT", "--l3-cache-schema L3:0=f"),
            updating("update: no flags", ""),
            updating("update: -r with an unknown field", "-r {host}/unknown.json", files: ["unknown.json": #"{"nosuch": {"x": 1}}"#]),
            updating("update: -r wins over flags", "-r - --pids-limit 5", stdin: "{}"),
            DifferentialExecTests.inSleeper("update: two ids", [.cmd("update --pids-limit 5 {id} {id2}", .refusal)]),
            DiffScenario(
                "update: a created container", script: "sleep 30",
                steps: [.createIt, .cmd("update --blkio-weight 500 {id}", .refusal), .stateIt, .forceDelete]),
            DiffScenario(
                "update: a paused container", script: "sleep 30",
                steps: [.runDetached, .cmd("pause {id}"), .cmd("update --blkio-weight 500 {id}", .refusal), .stateIt, .forceDelete]),
        ]
    }

    func testScenarios() throws { try DifferentialRunner.run(Self.scenarios) }
}
