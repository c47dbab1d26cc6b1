#!/usr/bin/env python3
"""Pod and container start latency through Kubernetes' CRI (containerd 1.6),
for the runtime handlers runc, vessel and vessel-vm in one interleaved run:
RunPodSandbox, CreateContainer, StartContainer, and the container's first
line in its CRI log, each timed from the client. Uses the private containerd
of the CRI tests (Tests/cri/cri_env.py). Usage (as root):

    scripts/cgroup2-ns unshare --mount --net --propagation private \\
        /usr/bin/python3 bench/cri-bench.py [--runs N] [--vessel PATH] [--write-readme]
"""
import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

import readme_section
from readme_section import tool_version

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "Tests", "cri"))
import cri_env  # noqa: E402

PHASES = ("RunPodSandbox", "CreateContainer", "StartContainer", "first log line", "total")


class PodStart:
    """One pod with one busybox container that prints a line, timed."""

    def __init__(self, cri, logs, handler):
        self.cri, self.api = cri, cri.api
        self.logs = logs
        self.handler = handler

    def run(self):
        api = self.api
        name = f"bench-{self.handler}-{uuid.uuid4().hex[:8]}"
        log_dir = os.path.join(self.logs, name)
        pod_config = api.PodSandboxConfig(
            metadata=api.PodSandboxMetadata(name=name, uid=str(uuid.uuid4()), namespace="vessel-bench"),
            hostname="bench", log_directory=log_dir)
        config = api.ContainerConfig(
            metadata=api.ContainerMetadata(name="c"), image=api.ImageSpec(image=cri_env.BUSYBOX_IMAGE),
            command=["sh", "-c", "echo ready; exec sleep 1000"], log_path="c.log")
        times = {}
        start = time.perf_counter()
        pod = self.cri.call("RunPodSandbox", api.RunPodSandboxRequest(config=pod_config, runtime_handler=self.handler)).pod_sandbox_id
        times["RunPodSandbox"] = time.perf_counter()
        request = api.CreateContainerRequest(pod_sandbox_id=pod, config=config, sandbox_config=pod_config)
        container = self.cri.call("CreateContainer", request).container_id
        times["CreateContainer"] = time.perf_counter()
        self.cri.call("StartContainer", api.StartContainerRequest(container_id=container))
        times["StartContainer"] = time.perf_counter()
        times["first log line"] = wait_for_line(os.path.join(log_dir, "c.log"), "stdout F ready")
        self.cri.call("StopPodSandbox", api.StopPodSandboxRequest(pod_sandbox_id=pod))
        self.cri.call("RemovePodSandbox", api.RemovePodSandboxRequest(pod_sandbox_id=pod))
        previous, phases = start, {}
        for phase in PHASES[:-1]:
            phases[phase] = times[phase] - previous
            previous = times[phase]
        phases["total"] = times["first log line"] - start
        return phases


def remove_scratch(scratch):
    """Only once nothing is mounted below it (its volumes' self-bind aside):
    removing through a mount would reach what is mounted."""
    for point in reversed(cri_env.mounts_under(scratch)):
        subprocess.run(["umount", point], capture_output=True)
    remaining = cri_env.mounts_under(scratch)
    if remaining:
        print(f"kept {scratch}: still mounted below it: {remaining}", file=sys.stderr)
    else:
        shutil.rmtree(scratch, ignore_errors=True)


def wait_for_line(path, text, seconds=120):
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        try:
            with open(path) as f:
                if text in f.read():
                    return time.perf_counter()
        except FileNotFoundError:
            pass
        time.sleep(0.002)
    raise RuntimeError(f"no {text!r} in {path} within {seconds} s")


def seconds(value):
    if value < 0.01:
        return f"{value * 1000:.1f} ms"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def table(results, handlers, runs, warmup, vessel):
    lines = [f"Machine: {os.cpu_count()} cores, kernel {platform.release()}, containerd "
             f"{tool_version(['containerd', '--version'], 2)}, runc {tool_version(['runc', '--version'], 2)}, vessel "
             f"{tool_version([vessel, '--version'], 2)}; {runs} interleaved runs after {warmup} warm-up; "
             "vessel-vm under TCG (this host's KVM is PVM).", "",
             "| phase | " + " | ".join(f"{h} min / median / max" for h in handlers) + " |",
             "| --- |" + " --- |" * len(handlers)]
    for phase in PHASES:
        cells = []
        for handler in handlers:
            samples = [run[phase] for run in results[handler]]
            cells.append(" / ".join(seconds(v) for v in (min(samples), statistics.median(samples), max(samples))))
        lines.append(f"| {phase} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--handlers", default=",".join(cri_env.HANDLERS))
    parser.add_argument("--vessel", default=shutil.which("vessel") or os.path.join(ROOT, ".build-release/release/vessel"))
    parser.add_argument("--write-readme", action="store_true")
    args = parser.parse_args()
    handlers = args.handlers.split(",")
    scratch = tempfile.mkdtemp(prefix="vessel-cri-bench-")
    cri_env.Isolation(scratch).enter()
    containerd = cri_env.Containerd(scratch, os.path.realpath(args.vessel))
    containerd.configure()
    containerd.start()
    results = {handler: [] for handler in handlers}
    try:
        containerd.import_images()
        cri = cri_env.CRI(containerd.socket, scratch)
        for index in range(args.warmup + args.runs):
            for handler in handlers:  # interleaved
                phases = PodStart(cri, containerd.path("logs"), handler).run()
                if index >= args.warmup:
                    results[handler].append(phases)
                print(f"run {index} {handler}: {seconds(phases['total'])}", file=sys.stderr)
    finally:
        containerd.stop()
        leftovers = cri_env.sweep()
        if leftovers:
            print("left over (killed): " + "; ".join(leftovers), file=sys.stderr)
        remove_scratch(scratch)
    text = table(results, handlers, args.runs, args.warmup, args.vessel)
    print(text)
    if args.write_readme:
        readme_section.write("cri-bench", text)


if __name__ == "__main__":
    main()
