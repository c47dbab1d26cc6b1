#!/usr/bin/env python3
"""Side-by-side benchmark of vessel, crun and runc on one bundle.

Runs under a pure cgroup v2 view (scripts/cgroup2-ns), interleaving the
runtimes (A, B, C, A, B, C, ...) after a warm-up, and reports min, median and
max per operation with the ratio of medians to crun. Usage (as root):

    scripts/cgroup2-ns python3 bench/bench.py [--runs N] [--write-readme]
"""
import argparse
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

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def runtimes(vessel):
    found = {"vessel": vessel}
    for name in ("crun", "runc"):
        path = shutil.which(name)
        if path:
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
        start = time.perf_counter()
        self.call(*args)
        return time.perf_counter() - start

    def new_id(self):
        self.counter += 1
        return f"b{os.getpid()}-{self.counter}"


def stats(samples):
    return min(samples), statistics.median(samples), max(samples)


def peak_rss_kib(helper, cmd):
    """Peak RSS of the runtime process itself (not the container), via wait4
    in bench/peak-rss.c. The runtime's own stderr is discarded."""
    out = subprocess.run([helper] + cmd, capture_output=True, text=True, check=True).stdout
    return int(out.strip().splitlines()[-1])


def bench(args):
    scratch = tempfile.mkdtemp(prefix="vessel-bench-")
    rts = [Runtime(n, p, scratch) for n, p in runtimes(args.vessel).items()]
    try:
        return measure(args, scratch, rts)
    finally:
        # Whatever an interrupted run left: containers, their cgroups, state.
        for rt in rts:
            listed = subprocess.run(rt.cmd("list", "-q"), capture_output=True, text=True).stdout.split()
            for cid in listed:
                subprocess.run(rt.cmd("delete", "--force", cid), capture_output=True)
        shutil.rmtree(scratch, ignore_errors=True)


def measure(args, scratch, rts):
    bundle, sleeper = make_bundle(scratch)
    results = {}  # (operation, runtime) -> [seconds]

    def record(op, rt, value):
        results.setdefault((op, rt.name), []).append(value)

    for i in range(args.warmup + args.runs):
        for rt in rts:  # interleaved
            cid = rt.new_id()
            t_run = rt.timed("run", "--bundle", bundle, cid)
            cid = rt.new_id()
            t_create = rt.timed("create", "--bundle", sleeper, cid)
            t_state = rt.timed("state", cid)
            t_start = rt.timed("start", cid)
            try:
                t_exec = rt.timed("exec", cid, "true")
            except subprocess.CalledProcessError:
                t_exec = None
            t_kill = rt.timed("kill", cid, "KILL")
            for _ in range(200):
                out = subprocess.run(rt.cmd("state", cid), capture_output=True, text=True).stdout
                if '"stopped"' in out:
                    break
                time.sleep(0.005)
            t_delete = rt.timed("delete", cid)
            if i >= args.warmup:
                record("run", rt, t_run)
                record("create", rt, t_create)
                record("start", rt, t_start)
                record("state", rt, t_state)
                record("kill", rt, t_kill)
                record("delete", rt, t_delete)
                if t_exec is not None:
                    record("exec", rt, t_exec)

    throughput = {}
    for parallel in (1, 2, 8):
        for rt in rts:
            ids = [rt.new_id() for _ in range(args.throughput)]
            start = time.perf_counter()
            with ThreadPoolExecutor(parallel) as pool:
                list(pool.map(lambda cid: rt.call("run", "--bundle", bundle, cid), ids))
            throughput[(parallel, rt.name)] = args.throughput / (time.perf_counter() - start)

    helper = os.path.join(scratch, "peak-rss")
    subprocess.run(["cc", "-O2", "-o", helper, os.path.join(ROOT, "bench/peak-rss.c")], check=True)
    rss = {}
    for rt in rts:
        cid = rt.new_id()
        rss[("run", rt.name)] = peak_rss_kib(helper, rt.cmd("run", "--bundle", bundle, cid))
        cid = rt.new_id()
        rss[("create", rt.name)] = peak_rss_kib(helper, rt.cmd("create", "--bundle", sleeper, cid))
        rt.call("delete", "--force", cid)
    sizes = {rt.name: os.path.getsize(os.path.realpath(rt.path)) for rt in rts}
    return [rt.name for rt in rts], results, throughput, rss, sizes


def version(path):
    out = subprocess.run([path, "--version"], capture_output=True, text=True).stdout
    return out.splitlines()[0] if out else "?"


def table(names, results, throughput, rss, sizes, args):
    lines = []
    machine = (f"{os.cpu_count()} cores, kernel {platform.release()}, "
               + ", ".join(version(p) for p in runtimes(args.vessel).values()))
    lines.append(f"Machine: {machine}. {args.runs} interleaved runs after {args.warmup} warm-up.")
    lines.append("")
    lines.append("| operation | runtime | min ms | median ms | max ms | median / crun |")
    lines.append("| --- | --- | ---: | ---: | ---: | ---: |")
    for op in ("run", "create", "start", "state", "kill", "delete", "exec"):
        base = results.get((op, "crun"))
        for name in names:
            samples = results.get((op, name))
            if not samples:
                lines.append(f"| {op} | {name} | - | - | - | not implemented |")
                continue
            lo, mid, hi = stats(samples)
            ratio = f"{mid / statistics.median(base):.2f}" if base else "-"
            lines.append(f"| {op} | {name} | {lo*1000:.1f} | {mid*1000:.1f} | {hi*1000:.1f} | {ratio} |")
    lines.append("")
    lines.append(f"| throughput ({args.throughput} x run) | " + " | ".join(names) + " |")
    lines.append("| --- | " + " | ".join("---:" for _ in names) + " |")
    for parallel in (1, 2, 8):
        lines.append(f"| {parallel} in flight, containers/s | "
                     + " | ".join(f"{throughput[(parallel, n)]:.1f}" for n in names) + " |")
    lines.append(f"| peak RSS of `create`, KiB | " + " | ".join(str(rss[('create', n)]) for n in names) + " |")
    lines.append(f"| peak RSS of `run`, KiB | " + " | ".join(str(rss[('run', n)]) for n in names) + " |")
    lines.append(f"| binary size, KiB | " + " | ".join(str(sizes[n] // 1024) for n in names) + " |")
    return "\n".join(lines)


def write_readme(text):
    path = os.path.join(ROOT, "README.md")
    with open(path) as f:
        readme = f.read()
    begin, end = "<!-- bench:begin -->", "<!-- bench:end -->"
    block = f"{begin}\n{text}\n{end}"
    if begin in readme:
        readme = readme[:readme.index(begin)] + block + readme[readme.index(end) + len(end):]
    else:
        readme += "\n## Benchmark\n\n`scripts/cgroup2-ns python3 bench/bench.py --write-readme`:\n\n" + block + "\n"
    with open(path, "w") as f:
        f.write(readme)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--throughput", type=int, default=100)
    parser.add_argument("--vessel", default=shutil.which("vessel") or os.path.join(ROOT, ".build-release/release/vessel"))
    parser.add_argument("--write-readme", action="store_true")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench.py: run as root")
    text = table(*bench(args), args)
    print(text)
    if args.write_readme:
        write_readme(text)


if __name__ == "__main__":
    main()
