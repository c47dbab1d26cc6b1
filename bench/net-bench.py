#!/usr/bin/env python3
"""TCP between two containers on an engine's kind of network, linux mode
against VM mode.

The network is what podman's and CNI's bridge plugins make: a bridge with
one veth per container, the container's end (address, route) in a network
namespace given to vessel by path; in VM mode vessel carries it into the
guest (tap + tc redirects, see docs/decisions.md). Everything lives in a
private network and mount namespace this script makes, so nothing touches
the host's network.

For each pair (client mode -> server mode: linux -> linux, linux -> vm,
vm -> vm) and each of R rounds (pairs interleaved): the server container
runs `iperf3 -s` and tcp-connect's accept loop (bench/tcp-connect.c); the
client container runs `iperf3 -c -t SECONDS` (throughput: the receiver's
bits per second) and then COUNT connects after 20 warm-up ones (latency:
connect()'s time, one SYN / SYN-ACK round trip; median and 99th
percentile). The table gives min / median / max over rounds. iperf3 is
Debian's (scripts/install-deps.sh), copied with its libraries into a copy
of the busybox rootfs. Usage (root, after scripts/setup.sh):

    scripts/cgroup2-ns python3 bench/net-bench.py [--rounds 3] [--seconds 5] [--connects 300] [--write-readme]
"""
import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import readme_section
from readme_section import tool_version

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAIRS = (("linux", "linux"), ("linux", "vm"), ("vm", "vm"))
SERVER, CLIENT, GATEWAY = "10.79.0.2", "10.79.0.3", "10.79.0.1"


def run(*command, **options):
    return subprocess.run(command, check=True, **options)


def make_rootfs(scratch):
    """The busybox rootfs with iperf3 (and the libraries ldd lists) and a static tcp-connect."""
    rootfs = os.path.join(scratch, "rootfs")
    run("cp", "-a", os.path.join(ROOT, "bundles/busybox/rootfs"), rootfs)
    iperf3 = shutil.which("iperf3")
    if not iperf3:
        raise SystemExit("net-bench: iperf3 is not installed: run scripts/install-deps.sh")
    libraries = [word for line in subprocess.run(["ldd", iperf3], capture_output=True, text=True).stdout.splitlines()
                 for word in line.split() if word.startswith("/")]
    for path in [iperf3] + libraries:
        target = rootfs + os.path.realpath(path) if path != iperf3 else rootfs + "/bin/iperf3"
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(os.path.realpath(path), target)
        if path != iperf3 and os.path.realpath(path) != path:
            os.makedirs(os.path.dirname(rootfs + path), exist_ok=True)
            if not os.path.lexists(rootfs + path):
                os.symlink(os.path.realpath(path), rootfs + path)
    run("gcc", "-O2", "-static", "-o", rootfs + "/bin/tcp-connect", os.path.join(ROOT, "bench/tcp-connect.c"))
    return rootfs


def make_bundle(scratch, rootfs, name, namespace, args):
    with open(os.path.join(ROOT, "bundles/busybox/config.json")) as f:
        config = json.load(f)
    config["root"] = {"path": rootfs, "readonly": True}
    config["process"]["args"] = args
    config["process"]["terminal"] = False
    # iperf3 keeps each stream's buffer in a file it makes in /tmp.
    config["mounts"].append({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev"]})
    config["linux"]["namespaces"] = [n if n["type"] != "network" else {"type": "network", "path": namespace}
                                     for n in config["linux"]["namespaces"]]
    bundle = os.path.join(scratch, name)
    os.makedirs(bundle)
    with open(os.path.join(bundle, "config.json"), "w") as f:
        json.dump(config, f)
    return bundle


def make_network():
    """br0 (GATEWAY) with a veth to each of the namespaces srv and cli."""
    run("mount", "-t", "tmpfs", "tmpfs", "/run")
    os.makedirs("/run/netns")
    run("ip", "link", "set", "lo", "up")
    run("ip", "link", "add", "br0", "type", "bridge")
    run("ip", "addr", "add", GATEWAY + "/24", "dev", "br0")
    run("ip", "link", "set", "br0", "up")
    for name, address in (("srv", SERVER), ("cli", CLIENT)):
        run("ip", "netns", "add", name)
        run("ip", "link", "add", "v" + name, "type", "veth", "peer", "name", "eth0", "netns", name)
        run("ip", "link", "set", "v" + name, "master", "br0", "up")
        run("ip", "-n", name, "link", "set", "lo", "up")
        run("ip", "-n", name, "addr", "add", address + "/24", "dev", "eth0")
        run("ip", "-n", name, "link", "set", "eth0", "up")
        run("ip", "-n", name, "route", "add", "default", "via", GATEWAY)


def wait_for_port(address, port, seconds=90):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with socket.create_connection((address, port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"net-bench: nothing listens on {address}:{port} after {seconds} s")


def measure(vessel, state, bundles, pair, round_number):
    client_mode, server_mode = pair
    vm = {"vm": ["--vm"], "linux": []}
    server_id = f"srv-{server_mode}-{round_number}"
    run(vessel, "--root", state, *vm[server_mode], "run", "-d", "--bundle", bundles[("server", server_mode)], server_id,
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    try:
        # iperf3's own port is not probed: its server would take the probe
        # for a test, fail it, and reopen its socket (the client retries).
        wait_for_port(SERVER, 7001)
        client = subprocess.run([vessel, "--root", state, *vm[client_mode], "run", "--bundle", bundles[("client", client_mode)],
                                 f"cli-{client_mode}-{round_number}"], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    finally:
        subprocess.run([vessel, "--root", state, "delete", "--force", server_id], capture_output=True)
    if client.returncode != 0:
        raise SystemExit(f"net-bench: the {client_mode} client failed ({client.returncode}): {client.stderr[-800:]}")
    report, connects = client.stdout.split("IPERF-END\n", 1)
    iperf = json.loads(report.split("IPERF-BEGIN\n", 1)[1])
    if "error" in iperf:
        raise SystemExit(f"net-bench: iperf3 {client_mode} -> {server_mode}: {iperf['error']}")
    latencies = sorted(float(line) for line in connects.split())
    return {"gbits": iperf["end"]["sum_received"]["bits_per_second"] / 1e9,
            "median_us": statistics.median(latencies),
            "p99_us": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]}


def table(results, args, vessel):
    def cell(samples, form):
        return " / ".join(form(v) for v in (min(samples), statistics.median(samples), max(samples)))
    lines = [f"`scripts/cgroup2-ns python3 bench/net-bench.py --rounds {args.rounds} --seconds {args.seconds} "
             f"--connects {args.connects}`: iperf3 {tool_version(['iperf3', '--version'], 1)}, vessel {tool_version([vessel, '--version'], 2)} "
             f"({'release' if 'release' in vessel else 'debug'} build; the data path runs no vessel code); "
             "a bridge and a veth per container in a private network namespace; VM mode under TCG "
             "(this host's KVM is PVM), 1 vCPU each. min / median / max over rounds.", "",
             "| client -> server | TCP throughput (Gbit/s) | connect latency, median (µs) | connect latency, p99 (µs) |",
             "| --- | --- | --- | --- |"]
    for pair in PAIRS:
        samples = results[pair]
        lines.append(f"| {pair[0]} -> {pair[1]} | {cell([s['gbits'] for s in samples], lambda v: f'{v:.2f}')} | "
                     f"{cell([s['median_us'] for s in samples], lambda v: f'{v:.0f}')} | "
                     f"{cell([s['p99_us'] for s in samples], lambda v: f'{v:.0f}')} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connects", type=int, default=300)
    parser.add_argument("--vessel", default=shutil.which("vessel") or os.path.join(ROOT, ".build-release/release/vessel"))
    parser.add_argument("--write-readme", action="store_true")
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    vessel = os.path.realpath(args.vessel)
    if not args.inside:
        # The network, /run and /run/netns are this namespace's alone.
        command = ["unshare", "--mount", "--net", "--propagation", "private", sys.executable, os.path.abspath(__file__),
                   "--inside", "--rounds", str(args.rounds), "--seconds", str(args.seconds), "--connects", str(args.connects),
                   "--vessel", vessel] + (["--write-readme"] if args.write_readme else [])
        raise SystemExit(subprocess.run(command).returncode)
    scratch = tempfile.mkdtemp(prefix="vessel-net-bench-")
    try:
        make_network()
        rootfs = make_rootfs(scratch)
        state = os.path.join(scratch, "state")
        bundles = {}
        for mode in ("linux", "vm"):
            bundles[("server", mode)] = make_bundle(scratch, rootfs, "server-" + mode, "/run/netns/srv",
                                                    ["sh", "-c", "iperf3 -s -D && exec tcp-connect serve 7001"])
            bundles[("client", mode)] = make_bundle(scratch, rootfs, "client-" + mode, "/run/netns/cli", [
                "sh", "-c", f"for i in $(seq 30); do iperf3 -c {SERVER} -t {args.seconds} -J > /tmp/iperf.json && break; sleep 1; done; "
                            f"echo IPERF-BEGIN; cat /tmp/iperf.json; echo IPERF-END; "
                            f"tcp-connect {SERVER} 7001 20 > /dev/null && tcp-connect {SERVER} 7001 {args.connects}"])
        results = {pair: [] for pair in PAIRS}
        for round_number in range(args.rounds):
            for pair in PAIRS:
                sample = measure(vessel, state, bundles, pair, round_number)
                results[pair].append(sample)
                print(f"round {round_number} {pair[0]} -> {pair[1]}: {sample['gbits']:.2f} Gbit/s, "
                      f"connect median {sample['median_us']:.0f} µs, p99 {sample['p99_us']:.0f} µs", file=sys.stderr)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    text = table(results, args, vessel)
    print(text)
    if args.write_readme:
        readme_section.write("net-bench", text)


if __name__ == "__main__":
    main()
