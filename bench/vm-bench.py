#!/usr/bin/env python3
"""What `vessel --vm run` of the busybox bundle costs on this host, with the
guest taken from the pool of warm VMs, restored from a template, and booted
cold.

Timings: for N interleaved rounds (after warm-ups that build the initramfs
cache and the template) it reports min, median and max of the time from
starting `vessel --vm run` to the container's first byte of output and to
its exit, for linux mode, VM mode with a template (the default), VM mode
booted cold (VESSEL_VM_TEMPLATES=off), and VM mode with a pool of one warm
VM (`vessel vm pool fill --count 1`, under a state root of its own): each
pool round first waits until the refill that the previous claim started
has a VM ready, so it measures a run that finds one.

Memory: with 4 VM-mode containers running at once (sleeping), each VM's
host memory as PSS (proportional set size, /proc/PID/smaps_rollup): pages
shared between VMs (a template's RAM file, QEMU's code) count for each VM
by its share, so the figures add up to what the VMs take together. RSS is
beside it for comparison. Same for cold boots, whose VMs share only QEMU's
code. For the pool: 4 containers that took pool VMs, once the refills
have been drained (they would share the template's pages too). Usage (as
root, after scripts/setup.sh):

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
VMS = 4


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


def timed_run(vessel, root, mode, env, bundle, cid):
    """Seconds to the first output byte and to exit."""
    start = time.monotonic()
    proc = subprocess.Popen([vessel, "--root", root] + mode + ["run", "--bundle", bundle, cid],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    proc.stdout.read(1)
    first = time.monotonic() - start
    _, err = proc.communicate()
    total = time.monotonic() - start
    if proc.returncode != 0:
        raise SystemExit(f"{mode} run failed with status {proc.returncode}: {err.decode()}")
    return first, total


def rollup(pid):
    """Pss and Rss of a process, KiB."""
    values = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if parts[0] in ("Pss:", "Rss:"):
                values[parts[0][:-1]] = int(parts[1])
    return values


def memory_of_running_vms(vessel, root, env, bundle, prefix):
    """PSS and RSS (MiB) of QEMU and of the supervisor per VM, with VMS VMs up."""
    ids = [f"{prefix}-{i}" for i in range(VMS)]
    for cid in ids:
        subprocess.run([vessel, "--root", root, "--vm", "run", "-d", "--bundle", bundle, cid], check=True,
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, env=env)
    time.sleep(2)
    qemu, supervisor = [], []
    for cid in ids:
        state = json.loads(subprocess.run([vessel, "--root", root, "state", cid], check=True, capture_output=True).stdout)
        qemu.append(rollup(state["annotations"]["org.vessel.vm.vmm-pid"]))
        supervisor.append(rollup(state["pid"]))
        boot = state["annotations"].get("org.vessel.vm.boot", "cold")
    for cid in ids:
        subprocess.run([vessel, "--root", root, "delete", "--force", cid], check=True)
    mib = lambda samples, key: statistics.median(s[key] for s in samples) / 1024
    return {"qemu_pss": mib(qemu, "Pss"), "qemu_rss": mib(qemu, "Rss"),
            "supervisor_pss": mib(supervisor, "Pss"), "supervisor_rss": mib(supervisor, "Rss"), "boot": boot}


def pool(vessel, root, env, *args):
    return subprocess.run([vessel, "--root", root, "vm", "pool"] + list(args), check=True, env=env,
                          capture_output=True, text=True).stdout


def wait_for_ready_pool_vms(vessel, root, env, count=1):
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if pool(vessel, root, env, "list").count("\tready") >= count:
            return
        time.sleep(0.2)
    raise SystemExit("the pool did not refill within 120 s")


def memory_of_pool_vms(vessel, root, env, bundle):
    """PSS and RSS (MiB) of QEMU per VM with VMS containers in pool VMs, the refills drained."""
    pool(vessel, root, env, "fill", "--count", str(VMS))
    ids = [f"pool-mem-{i}" for i in range(VMS)]
    for cid in ids:
        subprocess.run([vessel, "--root", root, "--vm", "run", "-d", "--bundle", bundle, cid], check=True,
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, env=env)
    pool(vessel, root, env, "drain")
    time.sleep(2)
    qemu = []
    for cid in ids:
        state = json.loads(subprocess.run([vessel, "--root", root, "state", cid], check=True, capture_output=True).stdout)
        if not state["annotations"].get("org.vessel.vm.boot", "").startswith("pool"):
            raise SystemExit(f"{cid} did not take a pool VM: {state['annotations']}")
        qemu.append(rollup(state["annotations"]["org.vessel.vm.vmm-pid"]))
    for cid in ids:
        subprocess.run([vessel, "--root", root, "delete", "--force", cid], check=True)
    mib = lambda key: statistics.median(s[key] for s in qemu) / 1024
    return {"qemu_pss": mib("Pss"), "qemu_rss": mib("Rss")}


def stats(samples):
    return min(samples), statistics.median(samples), max(samples)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--vessel", default=shutil.which("vessel") or os.path.join(ROOT, ".build-release/release/vessel"))
    args = parser.parse_args()
    scratch = tempfile.mkdtemp(prefix="vessel-vm-bench-")
    root = os.path.join(scratch, "state")
    # A template directory of the benchmark's own: the first run builds it.
    template_env = dict(os.environ, VESSEL_VM_TEMPLATE_DIR=os.path.join(scratch, "templates"))
    template_env.pop("VESSEL_VM_TEMPLATES", None)
    cold_env = dict(template_env, VESSEL_VM_TEMPLATES="off")
    echo = make_bundle(scratch, "echo", ["echo", "hello"])
    sleeper = make_bundle(scratch, "sleeper", ["sleep", "100"])
    pool_root = os.path.join(scratch, "pool-state")
    modes = {"pool": (["--vm"], template_env), "template": (["--vm"], template_env), "cold": (["--vm"], cold_env),
             "linux": ([], template_env)}
    results = {name: ([], []) for name in modes}
    build_start = time.monotonic()
    timed_run(args.vessel, root, ["--vm"], template_env, echo, "warm-template")
    build = time.monotonic() - build_start
    timed_run(args.vessel, root, ["--vm"], cold_env, echo, "warm-cold")
    pool_start = time.monotonic()
    pool(args.vessel, pool_root, template_env, "fill", "--count", "1")
    pool_fill = time.monotonic() - pool_start
    try:
        for i in range(args.runs):
            for name, (mode, env) in modes.items():
                if name == "pool":
                    wait_for_ready_pool_vms(args.vessel, pool_root, env)
                    first, total = timed_run(args.vessel, pool_root, mode, env, echo, f"{name}-{i}")
                else:
                    first, total = timed_run(args.vessel, root, mode, env, echo, f"{name}-{i}")
                results[name][0].append(first * 1000)
                results[name][1].append(total * 1000)
        pool(args.vessel, pool_root, template_env, "drain")
        memory = {name: memory_of_running_vms(args.vessel, root, env, sleeper, name)
                  for name, env in (("template", template_env), ("cold", cold_env))}
        memory["pool"] = memory_of_pool_vms(args.vessel, pool_root, template_env, sleeper)
    finally:
        pool(args.vessel, pool_root, template_env, "drain")
    shutil.rmtree(scratch, ignore_errors=True)
    print(f"vessel --vm run of bundles/busybox (echo), {args.runs} interleaved rounds, {os.cpu_count()} cores, "
          f"kernel {os.uname().release}; the first run built the template in {build:.1f} s; "
          f"memory with {VMS} VMs running ({memory['template']['boot']} / {memory['cold']['boot']}); "
          f"the pool's first VM was ready {pool_fill:.1f} s after `vm pool fill`")
    print("| measure | VM from the pool: min / median / max | VM, template | VM, cold boot | linux mode |")
    print("| --- | --- | --- | --- | --- |")
    for index, label in ((0, "time to first output (ms)"), (1, "time to exit (ms)")):
        row = " | ".join(("%.0f / %.0f / %.0f" if name != "linux" else "%.1f / %.1f / %.1f") % stats(results[name][index])
                         for name in ("pool", "template", "cold", "linux"))
        print(f"| {label} | {row} |")
    for key, label in (("qemu", "VMM (QEMU) per VM"), ("supervisor", "VM supervisor (vessel) per VM")):
        row = " | ".join(f"{memory[name][key + '_pss']:.1f} MiB PSS ({memory[name][key + '_rss']:.0f} MiB RSS)"
                         if key + "_pss" in memory[name] else "-" for name in ("pool", "template", "cold"))
        print(f"| {label}, {VMS} VMs running | {row} | - |")


if __name__ == "__main__":
    main()
