#!/usr/bin/env python3
"""What `vessel --vm run` of the busybox bundle costs on this host.

For N runs (after one warm-up that also builds the initramfs cache) it
reports min, median and max of: the time from starting `vessel --vm run` to
the container's first byte of output, the time to its exit, and the host
memory of the VM (QEMU's peak RSS, VmHWM, read while the container runs),
with the accelerator vessel chose. The same runs in linux mode give the
baseline. Usage (as root, after scripts/setup.sh):

    scripts/cgroup2-ns python3 bench/vm-bench.py [--runs N] [--vessel PATH]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def make_bundle(scratch, name, args):
    with open(os.path.join(ROOT, "bundles/busybox/config.json")) as f:
        config = json.load(f)
    config["root"] = {"path": os.path.join(ROOT, "bundles/busybox/rootfs"), "readonly": True}
    config["process"]["args"] = args
    config["process"]["terminal"] = False
    bundle = os.path.join(scratch, name)
    os.makedirs(bundle)
    with open(os.path.join(bundle, "config.json"), "w") as f:
        json.dump(config, f)
    return bundle


def timed_run(vessel, root, mode, bundle, cid):
    """Seconds to the first output byte and to exit."""
    start = time.monotonic()
    proc = subprocess.Popen([vessel, "--root", root] + mode + ["run", "--bundle", bundle, cid],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.read(1)
    first = time.monotonic() - start
    proc.communicate()
    total = time.monotonic() - start
    if proc.returncode != 0:
        raise SystemExit(f"{mode} run failed with status {proc.returncode}")
    return first, total


def vmm_peak_rss_mib(vessel, root, bundle, cid):
    """QEMU's VmHWM while a sleeping container runs, and the accelerator."""
    subprocess.run([vessel, "--root", root, "--vm", "run", "-d", "--bundle", bundle, cid], check=True,
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    state = json.loads(subprocess.run([vessel, "--root", root, "state", cid], check=True, capture_output=True).stdout)
    annotations = state.get("annotations") or {}
    pid = annotations["org.vessel.vm.vmm-pid"]
    time.sleep(1)
    with open(f"/proc/{pid}/status") as f:
        hwm = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
    with open(f"/proc/{state['pid']}/status") as f:
        supervisor = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
    subprocess.run([vessel, "--root", root, "delete", "--force", cid], check=True)
    return hwm / 1024, supervisor / 1024, annotations["org.vessel.vm.accelerator"]


def stats(samples):
    return min(samples), statistics.median(samples), max(samples)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--vessel", default=shutil.which("vessel") or os.path.join(ROOT, ".build-release/release/vessel"))
    args = parser.parse_args()
    scratch = tempfile.mkdtemp(prefix="vessel-vm-bench-")
    root = os.path.join(scratch, "state")
    echo = make_bundle(scratch, "echo", ["echo", "hello"])
    sleeper = make_bundle(scratch, "sleeper", ["sleep", "100"])
    results = {"vm": ([], []), "linux": ([], [])}
    timed_run(args.vessel, root, ["--vm"], echo, "warm")
    for i in range(args.runs):
        for name, mode in (("vm", ["--vm"]), ("linux", [])):
            first, total = timed_run(args.vessel, root, mode, echo, f"{name}-{i}")
            results[name][0].append(first * 1000)
            results[name][1].append(total * 1000)
    rss, supervisor, accel = vmm_peak_rss_mib(args.vessel, root, sleeper, "rss")
    shutil.rmtree(scratch, ignore_errors=True)
    print(f"vessel --vm run of bundles/busybox (echo), {args.runs} runs, accelerator {accel}, {os.cpu_count()} cores, "
          f"kernel {os.uname().release}")
    print("| measure | vm min / median / max | linux min / median / max |")
    print("| --- | --- | --- |")
    for index, label in ((0, "time to first output (ms)"), (1, "time to exit (ms)")):
        vm = "%.0f / %.0f / %.0f" % stats(results["vm"][index])
        linux = "%.1f / %.1f / %.1f" % stats(results["linux"][index])
        print(f"| {label} | {vm} | {linux} |")
    print(f"| VMM (QEMU) peak RSS | {rss:.0f} MiB | - |")
    print(f"| VM supervisor (vessel) peak RSS | {supervisor:.1f} MiB | - |")


if __name__ == "__main__":
    main()
