#!/usr/bin/env python3
"""CPU per lifecycle command, counted by `perf stat` (Debian's linux-perf).

Wall time on a shared machine says more about the neighbours than about the
runtime; the CPU time a command uses (task-clock) varies much less. Each command of one bench.py lifecycle round (run,
create, state, start, exec, kill, delete, on bench.py's busybox bundle) runs
under `perf stat -e task-clock`, which counts that command and
every process it starts (the container, for run and exec), not the set-up
between commands. Runtimes are interleaved round by round, as in bench.py.

    scripts/cgroup2-ns python3 bench/cpu-stat.py [--runs N] [--vessel PATH]
        [--also NAME=PATH ...] [--only crun,vessel]

Prints, per command and runtime, the median task-clock in ms (and the
first and third quartiles).
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

from bench import OPERATIONS, lifecycle_round, make_bundle, rotated, runtimes, runtimes_at_work


def counted(rt, *args):
    """The task-clock (ms) of one command under perf stat."""
    # perf writes to a file: a created container's init keeps the
    # command's stderr open, so a pipe would never reach EOF.
    with tempfile.NamedTemporaryFile("r") as report:
        subprocess.run(["perf", "stat", "-x", ",", "-o", report.name, "-e", "task-clock", "--"] + rt.cmd(*args),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        text = report.read()
    for line in text.splitlines():
        fields = line.split(",")
        if len(fields) > 2 and fields[2] == "task-clock":
            return float(fields[0])
    raise RuntimeError("perf stat wrote no task-clock: " + text)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--vessel", default=os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                                         ".build-release/release/vessel"))
    parser.add_argument("--also", action="append", default=[], metavar="NAME=PATH")
    parser.add_argument("--only", help="comma-separated runtimes to measure (default: all found)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("cpu-stat.py: run as root")
    if not shutil.which("perf"):
        sys.exit("cpu-stat.py: needs perf (Debian's linux-perf)")
    found = runtimes(args)
    if args.only:
        found = {n: p for n, p in found.items() if n in args.only.split(",")}
    results = {}
    with runtimes_at_work(found) as (scratch, rts):
        bundle, sleeper = make_bundle(scratch)
        for i in range(args.warmup + args.runs):
            for rt in rotated(rts, i):
                for op, sample in lifecycle_round(rt, bundle, sleeper, lambda *a, rt=rt: counted(rt, *a)).items():
                    if i >= args.warmup:
                        results.setdefault((op, rt.name), []).append(sample)
    names = [rt.name for rt in rts]
    print(f"{args.runs} interleaved rounds; perf stat task-clock, ms: median (first quartile - third quartile)")
    print("| command | " + " | ".join(names) + " |")
    print("| --- | " + " | ".join("---:" for _ in names) + " |")
    for op in OPERATIONS:
        cells = []
        for n in names:
            samples = results.get((op, n), [])
            if not samples:
                cells.append("-")
                continue
            low, mid, high = statistics.quantiles(samples, n=4)
            cells.append(f"{mid:.2f} ({low:.2f} - {high:.2f})")
        print(f"| {op} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
