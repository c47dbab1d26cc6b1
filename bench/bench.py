#!/usr/bin/env python3
"""Side-by-side benchmark of vessel, crun and runc on one bundle.

Runs under a pure cgroup v2 view (scripts/cgroup2-ns). Everything is
interleaved: each round runs every runtime once (A, B, C, A, B, C, ...), so
load from elsewhere on a shared machine falls on all of them alike, and the
ratio to crun's median in the same run is what to read. Reported per
operation: min, median and max wall time, and the median CPU time (user +
system of the runtime and of the processes it reaped). Throughput is measured
in several interleaved rounds per level of parallelism and given as min /
median / max, so one disturbed round shows as an outlier, not as the result.

    scripts/cgroup2-ns python3 bench/bench.py [--runs N] [--rounds N] [--write-readme]
        [--vessel PATH] [--also NAME=PATH ...]

--also adds more runtimes with vessel's command line (an older vessel build,
say), measured in the same interleaving: a before/after in one run.
"""
import argparse
import contextlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import readme_section

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OPERATIONS = ("run", "create", "start", "state", "kill", "delete", "exec")
PARALLEL = (1, 2, 8)


def runtimes(args):
    found = {"vessel": args.vessel}
    for name in ("crun", "runc"):
        path = shutil.which(name)
        if path:
            found[name] = path
    for extra in args.also:
        name, _, path = extra.partition("=")
        found[name] = path
    return found


def make_bundle(scratch):
    """The busybox bundle with `true` and no device cgroup rules (crun's eBPF
    device filter needs more memlock than this host allows)."""
    with open(os.path.join(ROOT, "bundles/busybox/config.json")) as f:
        config = json.load(f)
    config["root"] = {"path": os.path.join(ROOT, "bundles/busybox/rootfs"), "readonly": True}
    config["process"]["args"] = ["true"]
    config["process"]["terminal"] = False
    config.setdefault("linux", {}).setdefault("resources", {}).pop("devices", None)
    bundle = os.path.join(scratch, "bundle")
    os.makedirs(bundle)
    with open(os.path.join(bundle, "config.json"), "w") as f:
        json.dump(config, f)
    sleeper = os.path.join(scratch, "sleeper")
    os.makedirs(sleeper)
    config["process"]["args"] = ["sleep", "1000"]
    with open(os.path.join(sleeper, "config.json"), "w") as f:
        json.dump(config, f)
    return bundle, sleeper


class Runtime:
    def __init__(self, name, path, scratch):
        self.name, self.path = name, path
        self.root = os.path.join(scratch, "state-" + name)
        self.counter = 0

    def cmd(self, *args):
        return [self.path, "--root", self.root] + list(args)

    def call(self, *args):
        subprocess.run(self.cmd(*args), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def timed(self, *args):
        """(wall seconds, CPU seconds): the CPU time is the runtime's own and
        that of every process it reaped (the container, for run and exec)."""
        start = time.perf_counter()
        child = subprocess.Popen(self.cmd(*args), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            raise subprocess.CalledProcessError(child.returncode, self.cmd(*args))
        return wall, usage.ru_utime + usage.ru_stime

    def new_id(self):
        self.counter += 1
        return f"b{os.getpid()}-{self.counter}"


def stats(samples):
    return min(samples), statistics.median(samples), max(samples)


def peak_rss_kib(helper, cmd):
    """Peak RSS of the runtime process itself and what it reaped, via wait4
    in bench/peak-rss.c. The runtime's own stderr is discarded."""
    out = subprocess.run([helper] + cmd, capture_output=True, text=True, check=True).stdout
    return int(out.strip().splitlines()[-1])


def bench(args):
    with runtimes_at_work(runtimes(args)) as (scratch, rts):
        return measure(args, scratch, rts)


@contextlib.contextmanager
def runtimes_at_work(found):
    """(scratch directory, [Runtime]) for `found` ({name: path}), and on the
    way out whatever a run left, even an interrupted one: containers, their
    cgroups, state."""
    scratch = tempfile.mkdtemp(prefix="vessel-bench-")
    # The state roots on tmpfs under /run, where engines keep them
    # (/run/runc, /run/crun, /run/vessel): not on the disk of /tmp.
    states = tempfile.mkdtemp(prefix="vessel-bench-", dir="/run")
    mounted = on_disk(states) and subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=0700", "tmpfs", states]).returncode == 0
    rts = [Runtime(n, p, states) for n, p in found.items()]
    try:
        yield scratch, rts
    finally:
        for rt in rts:
            listed = subprocess.run(rt.cmd("list", "-q"), capture_output=True, text=True).stdout.split()
            for cid in listed:
                subprocess.run(rt.cmd("delete", "--force", cid), capture_output=True)
        shutil.rmtree(scratch, ignore_errors=True)
        if mounted:
            subprocess.run(["umount", states])
        shutil.rmtree(states, ignore_errors=True)


def on_disk(path):
    """Whether `path` is not on tmpfs (some hosts have /run on the root disk)."""
    out = subprocess.run(["stat", "-f", "-c", "%T", path], capture_output=True, text=True).stdout.strip()
    return out != "tmpfs"


def lifecycle_round(rt, bundle, sleeper, measured=None):
    """One run, and one create/state/start/exec/kill/delete: {op: what
    `measured(*arguments)` says of each, by default (wall, cpu)}."""
    timed = measured or rt.timed
    times = {"run": timed("run", "--bundle", bundle, rt.new_id())}
    cid = rt.new_id()
    times["create"] = timed("create", "--bundle", sleeper, cid)
    times["state"] = timed("state", cid)
    times["start"] = timed("start", cid)
    try:
        times["exec"] = timed("exec", cid, "true")
    except subprocess.CalledProcessError:
        pass
    times["kill"] = timed("kill", cid, "KILL")
    for _ in range(200):
        out = subprocess.run(rt.cmd("state", cid), capture_output=True, text=True).stdout
        if '"stopped"' in out:
            break
        time.sleep(0.005)
    times["delete"] = timed("delete", cid)
    return times


def rotated(items, by):
    """The runtimes in another order each round: none always goes first."""
    by %= len(items)
    return items[by:] + items[:by]


def measure(args, scratch, rts):
    bundle, sleeper = make_bundle(scratch)
    results = {}  # (operation, runtime) -> [(wall, cpu)]
    for i in range(args.warmup + args.runs):
        for rt in rotated(rts, i):
            times = lifecycle_round(rt, bundle, sleeper)
            if i >= args.warmup:
                for op, sample in times.items():
                    results.setdefault((op, rt.name), []).append(sample)

    throughput = {}  # (parallel, runtime) -> [containers/s per round]
    for parallel in PARALLEL:
        for round_number in range(args.rounds):
            for rt in rotated(rts, round_number):
                ids = [rt.new_id() for _ in range(args.throughput)]
                start = time.perf_counter()
                with ThreadPoolExecutor(parallel) as pool:
                    list(pool.map(lambda cid: rt.call("run", "--bundle", bundle, cid), ids))
                rate = args.throughput / (time.perf_counter() - start)
                throughput.setdefault((parallel, rt.name), []).append(rate)

    helper = os.path.join(scratch, "peak-rss")
    subprocess.run(["cc", "-O2", "-o", helper, os.path.join(ROOT, "bench/peak-rss.c")], check=True)
    rss = {}  # (operation, runtime) -> [KiB]
    for _ in range(3):
        for rt in rts:
            rss.setdefault(("run", rt.name), []).append(
                peak_rss_kib(helper, rt.cmd("run", "--bundle", bundle, rt.new_id())))
            cid = rt.new_id()
            rss.setdefault(("create", rt.name), []).append(
                peak_rss_kib(helper, rt.cmd("create", "--bundle", sleeper, cid)))
            rt.call("delete", "--force", cid)
    sizes = {rt.name: os.path.getsize(os.path.realpath(rt.path)) for rt in rts}
    return [rt.name for rt in rts], results, throughput, rss, sizes


def version(path):
    out = subprocess.run([path, "--version"], capture_output=True, text=True).stdout
    return out.splitlines()[0] if out else "?"


def table(names, results, throughput, rss, sizes, args):
    lines = []
    machine = (f"{os.cpu_count()} cores, kernel {platform.release()}, "
               + ", ".join(f"{name}: {version(path)}" for name, path in runtimes(args).items()))
    lines.append(f"Machine: {machine}. {args.runs} interleaved runs after {args.warmup} warm-up; "
                 f"throughput: {args.rounds} interleaved rounds of {args.throughput} x run per level.")
    lines.append("")
    lines.append("| operation | runtime | min ms | median ms | max ms | median / crun | CPU ms (median) |")
    lines.append("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for op in OPERATIONS:
        base = results.get((op, "crun"))
        base_median = statistics.median(w for w, _ in base) if base else None
        for name in names:
            samples = results.get((op, name))
            if not samples:
                lines.append(f"| {op} | {name} | - | - | - | not implemented | - |")
                continue
            lo, mid, hi = stats([w for w, _ in samples])
            cpu = statistics.median(c for _, c in samples)
            ratio = f"{mid / base_median:.2f}" if base_median else "-"
            lines.append(f"| {op} | {name} | {lo*1000:.1f} | {mid*1000:.1f} | {hi*1000:.1f} | {ratio} | {cpu*1000:.1f} |")
    lines.append("")
    lines.append(f"| throughput (containers/s, min / median / max) | " + " | ".join(names) + " |")
    lines.append("| --- | " + " | ".join("---:" for _ in names) + " |")
    for parallel in PARALLEL:
        cells = []
        for n in names:
            lo, mid, hi = stats(throughput[(parallel, n)])
            cells.append(f"{lo:.0f} / **{mid:.0f}** / {hi:.0f}")
        lines.append(f"| {parallel} in flight | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("| footprint | " + " | ".join(names) + " |")
    lines.append("| --- | " + " | ".join("---:" for _ in names) + " |")
    lines.append(f"| peak RSS of `create`, KiB (median of 3) | "
                 + " | ".join(str(int(statistics.median(rss[('create', n)]))) for n in names) + " |")
    lines.append(f"| peak RSS of `run`, KiB (median of 3) | "
                 + " | ".join(str(int(statistics.median(rss[('run', n)]))) for n in names) + " |")
    lines.append(f"| binary size, KiB | " + " | ".join(str(sizes[n] // 1024) for n in names) + " |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--throughput", type=int, default=100, help="containers per throughput round")
    parser.add_argument("--rounds", type=int, default=5, help="throughput rounds per level of parallelism")
    parser.add_argument("--vessel", default=shutil.which("vessel") or os.path.join(ROOT, ".build-release/release/vessel"))
    parser.add_argument("--also", action="append", default=[], metavar="NAME=PATH",
                        help="another vessel-compatible binary to measure in the same interleaving")
    parser.add_argument("--write-readme", action="store_true")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench.py: run as root")
    text = table(*bench(args), args)
    print(text)
    if args.write_readme:
        readme_section.write("bench", text, missing="\n## Benchmark\n\n`scripts/cgroup2-ns python3 bench/bench.py --write-readme`:\n\n")


if __name__ == "__main__":
    main()
