import XCTest

/// The command line as runc's integration tests drive it: a relative
/// --root, spec in the cwd, ids at the edges, ids in use, and exec's
/// less common flags.
final class DifferentialCommandLineTests: XCTestCase {
    static let processWithArgs = #"{"args": ["echo", "from process.json"], "cwd": "/", "env": ["PATH=/bin"], "user": {"uid": 0, "gid": 0}}"#

    static var scenarios: [DiffScenario] {
        [
            DiffScenario(
                "--root: a relative path", script: "sleep 30",
                steps: [
                    .host("cd {host} && {bin} --root rel run -d -b {bundle} {id}", .outcome),
                    .host("cd {host} && {bin} --root rel list -q && ls rel", .exact),
                    .host("cd / && {bin} --root {host}/rel state {id} | grep -c '\"status\": \"running\"'", .exact),
                    .host("cd {host} && {bin} --root rel delete --force {id} && ls rel", .exact),
                ]),
            DiffScenario("spec: in the current directory", steps: [.host("cd {host} && {bin} spec && ls {host}", .exact)]),
            DiffScenario("spec: twice", steps: [.cmd("spec -b {host}"), .cmd("spec -b {host}"), .host("ls {host}", .exact)]),
            DiffScenario("spec: a bundle that is a file", steps: [.host("touch {host}/file", .ignore), .cmd("spec -b {host}/file")]),
            DiffScenario(
                "ids: 255 characters", script: "true",
                steps: [.cmd("run -b {bundle} " + String(repeating: "y", count: 255)), .cmd("list -q", .table)]),
            DiffScenario(
                "ids: 256 characters", script: "true",
                steps: [.cmd("create -b {bundle} " + String(repeating: "z", count: 256)), .cmd("list -q", .table)]),
            DiffScenario(
                "ids: a leading dot", script: "sleep 30",
                steps: [.cmd("create -b {bundle} .{id}"), .cmd("list -q", .exact), .cmd("delete --force .{id}")]),
            DiffScenario(
                "ids: a leading dash", script: "true",
                steps: [.cmd("create -b {bundle} -- -{id}"), .cmd("list -q", .exact), .cmd("delete --force -- -{id}")]),
            DiffScenario(
                "create: an id in use by a stopped container", script: "true",
                steps: [.runDetached, .wait("stopped"), .createIt, .stateIt, .cmd("delete {id}")]),
            DiffScenario(
                "run: an id in use", script: "sleep 30",
                steps: [.runDetached, .exact("run -b {bundle} {id}"), .stateIt, .forceDelete]),
            DifferentialExecTests.inSleeper(
                "exec: --preserve-fds 1 passes fd 3", files: ["fd3": "through fd 3\n"],
                [
                    .host("{rt} exec --preserve-fds 1 {id} sh -c 'cat <&3' 3<{host}/fd3")
                ]),
            DifferentialExecTests.inSleeper(
                "exec: fd 3 without --preserve-fds", files: ["fd3": "through fd 3\n"],
                [
                    .host("{rt} exec {id} sh -c 'cat <&3' 3<{host}/fd3")
                ]),
            DifferentialExecTests.inSleeper(
                "exec: --preserve-fds more than are open",
                [
                    .host("{rt} exec --preserve-fds 5 {id} sh -c 'ls /proc/self/fd | wc -l'")
                ]),
            DifferentialExecTests.inSleeper(
                "exec: --process with args after the id", files: ["process.json": processWithArgs],
                [
                    .exact("exec --process {host}/process.json {id} echo from the command line")
                ]),
            DifferentialExecTests.inSleeper(
                "exec: --process that is not JSON", files: ["process.json": "{\"args\": "],
                [
                    .exact("exec --process {host}/process.json {id}")
                ]),
            DifferentialExecTests.inSleeper("exec: -u with a gid that is not a number", [.exact("exec -u 1000:staff {id} id")]),
            DifferentialExecTests.inSleeper("exec: -u with an empty uid", [.exact("exec -u :1000 {id} id")]),
            DifferentialExecTests.inSleeper("exec: --cap with an unknown name", [.exact("exec --cap CAP_NO_SUCH {id} true")]),
            DifferentialExecTests.inSleeper("exec: --cap without the CAP_ prefix", [.exact("exec --cap sys_admin {id} grep CapBnd /proc/self/status")]),
            DifferentialExecTests.inSleeper("exec: --env without =", [.exact("exec --env JUSTNAME {id} sh -c 'env | grep -c JUSTNAME'")]),
            // The process starts frozen: exec returns once the container is resumed.
            DifferentialExecTests.inSleeper(
                "exec: --ignore-paused in a paused container",
                [
                    .cmd("pause {id}"), .background("exec --ignore-paused {id} echo ran"), .sleep(0.3), .stateIt,
                    .cmd("resume {id}"), .join(),
                ]),
            DifferentialExecTests.inSleeper("exec: --cgroup that does not exist", [.exact("exec --cgroup no/such/sub {id} true")]),
            // The sub-cgroup is made in the container's cgroup, wherever each runtime put it.
            DifferentialExecTests.inSleeper(
                "exec: --cgroup of an existing sub-cgroup",
                [
                    .host("mkdir /sys/fs/cgroup$(sed -n 's/^0:://p' /proc/" + DiffStep.statePid + "/cgroup)/sub", .outcome),
                    .exact("exec --cgroup sub {id} sh -c 'sed -n \"s/^0::.*\\///p\" /proc/self/cgroup'"),
                ]),
            DifferentialExecTests.inSleeper("exec: --cgroup with a controller", [.exact("exec --cgroup pids:sub {id} true")]),
            // runc's exec.bats: the container's own cgroup as "/", then the
            // init moved below it and a domain controller turned on, where
            // cgroup v2 takes no process in the container's own any more.
            DifferentialExecTests.inSleeper(
                "exec: --cgroup / and the init's cgroup as the fallback",
                config: { spec, sandbox in
                    spec.setLinux("cgroupsPath", "/" + sandbox.id)
                    spec.changeNamespace("cgroup")
                    spec.makeCgroupMountWritable()
                },
                [
                    .exact("exec --cgroup / {id} grep ^0:: /proc/self/cgroup"), .exact("exec --cgroup .. {id} true"),
                    .exact("exec {id} sh -euc 'mkdir /sys/fs/cgroup/foobar; echo 1 > /sys/fs/cgroup/foobar/cgroup.procs; grep ^0:: /proc/1/cgroup'"),
                    .exact("exec {id} grep ^0:: /proc/self/cgroup"),
                    .exact("exec {id} sh -euc 'echo $$ > /sys/fs/cgroup/foobar/cgroup.procs; echo +hugetlb > /sys/fs/cgroup/cgroup.subtree_control'"),
                    .exact("exec {id} grep ^0:: /proc/self/cgroup"), .exact("exec --cgroup / {id} true"),
                    .exact("exec --cgroup foobar {id} grep ^0:: /proc/self/cgroup"),
                ]),
            DiffScenario(
                "run: --preserve-fds 1 passes fd 3", script: "cat <&3", files: ["fd3": "through fd 3\n"],
                steps: [.host("{rt} run --preserve-fds 1 -b {bundle} {id} 3<{host}/fd3")]),
            // Nothing open above stderr in the caller: what would be passed is the runtime's own.
            DiffScenario(
                "run: --preserve-fds of fds the caller did not open",
                script: "for f in /proc/self/fd/*; do readlink $f; done | sed 's/[0-9][0-9]*/N/g'",
                steps: [.host("exec 3<&- 4<&- 5<&- 6<&- 7<&- 8<&- 9<&-; {rt} run --preserve-fds 3 -b {bundle} {id}"), .stateIt]),
            DifferentialExecTests.inSleeper("exec: -t -d without a console socket", [.cmd("exec -t -d {id} true")]),
        ]
    }

    func testScenarios() throws { try DifferentialRunner.run(Self.scenarios) }
}
