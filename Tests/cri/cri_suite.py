#!/usr/bin/env python3
"""vessel's CRI scenarios: a private containerd (cri_env.py) runs pods
through the CRI for each runtime handler (runc, vessel, vessel-vm), and
each scenario's outcome is written as JSON for CRITests.swift to assert:

    unshare --mount --net --propagation private \\
        cri_suite.py --scratch DIR --vessel BINARY --out RESULTS.json [--handlers a,b]

RESULTS.json: {"handlers": {handler: {scenario: {"status": "pass"|"fail"|"skip",
"detail": "...", "seconds": N}}}, "after": {...}} in the order run.
"""
import argparse
import contextlib
import json
import os
import re
import socket
import subprocess
import time
import traceback
import uuid

import cri_env
import cri_stream

SCENARIOS = (
    "run_pod_sandbox", "create_start_container", "pod_network", "pod_shared_namespaces", "exec_sync",
    "exec_sync_timeout", "exec_stdin", "update_container_resources", "update_memory_limit", "exit_code",
    "cri_log_format", "stop_exited_container", "volume_private", "volume_host_to_container", "volume_bidirectional",
    "pod_shared_pid", "stop_and_remove", "nothing_left",
)
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d) (stdout|stderr) (F|P) (.*)$")


class Skip(Exception):
    """A scenario this host or this handler cannot run, with the reason."""


class Failed(Exception):
    pass


def expect(condition, message):
    if not condition:
        raise Failed(message)


class Results:
    def __init__(self, path):
        self.path = path
        self.data = {"handlers": {}, "after": {}}

    @contextlib.contextmanager
    def scenario(self, handler, name):
        started = time.time()
        entry = {"status": "pass", "detail": ""}
        try:
            yield entry
        except Skip as reason:
            entry.update(status="skip", detail=str(reason))
        except Failed as reason:
            entry.update(status="fail", detail=str(reason))
        except Exception as error:  # an RPC error, a timeout: the scenario failed
            entry.update(status="fail", detail=describe(error))
        entry["seconds"] = round(time.time() - started, 2)
        self.data["handlers"].setdefault(handler, {})[name] = entry
        self.save()

    def save(self):
        with open(self.path + ".tmp", "w") as f:
            json.dump(self.data, f, indent=2)
        os.replace(self.path + ".tmp", self.path)


def describe(error):
    details = getattr(error, "details", None)
    if callable(details):
        return f"{error.code().name}: {details()}".replace("\n", " ")
    return "".join(traceback.format_exception_only(type(error), error)).strip()


class Pod:
    """One pod of one handler and the scenarios run in it."""

    def __init__(self, cri, containerd, handler, results, name=None, shared_pid=False):
        self.cri, self.api = cri, cri.api
        self.shared_pid = shared_pid
        self.containerd = containerd
        self.handler = handler
        self.results = results
        self.name = name or "pod-" + handler
        self.logs = containerd.path("logs", self.name)
        self.volumes = containerd.path("volumes", handler)
        self.pod_id = None
        self.containers = {}
        self.host_mounts = []

    @property
    def vm(self):
        return self.handler == "vessel-vm"

    def scenario(self, name):
        return self.results.scenario(self.handler, name)

    # MARK: requests

    def namespaces(self):
        """The pod's network and IPC namespaces for every container; its
        PID namespace (the pause process as PID 1) only with shared_pid."""
        api = self.api
        return api.NamespaceOption(network=api.POD, pid=api.POD if self.shared_pid else api.CONTAINER, ipc=api.POD)

    def config(self):
        api = self.api
        return api.PodSandboxConfig(
            metadata=api.PodSandboxMetadata(name=self.name, uid=str(uuid.uuid4()), namespace="vessel-test"),
            hostname=self.name, log_directory=self.logs,
            linux=api.LinuxPodSandboxConfig(security_context=api.LinuxSandboxSecurityContext(namespace_options=self.namespaces())))

    def create(self, name, script, mounts=(), capabilities=()):
        api = self.api
        security = api.LinuxContainerSecurityContext(
            capabilities=api.Capability(add_capabilities=list(capabilities)), namespace_options=self.namespaces())
        config = api.ContainerConfig(
            metadata=api.ContainerMetadata(name=name), image=api.ImageSpec(image=cri_env.BUSYBOX_IMAGE),
            command=["sh", "-c", script], log_path=name + ".log", mounts=list(mounts),
            linux=api.LinuxContainerConfig(security_context=security))
        request = api.CreateContainerRequest(pod_sandbox_id=self.pod_id, config=config, sandbox_config=self.pod_config)
        container = self.cri.call("CreateContainer", request).container_id
        self.containers[name] = container
        return container

    def start(self, container):
        self.cri.call("StartContainer", self.api.StartContainerRequest(container_id=container))

    def status(self, container):
        return self.cri.call("ContainerStatus", self.api.ContainerStatusRequest(container_id=container)).status

    def exec_sync(self, container, cmd, timeout=60):
        request = self.api.ExecSyncRequest(container_id=container, cmd=cmd, timeout=timeout)
        return self.cri.call("ExecSync", request, timeout=timeout + 120)

    def sh(self, container, script):
        """The output of a shell command in the container; fails unless it exits 0."""
        reply = self.exec_sync(container, ["sh", "-c", script])
        expect(reply.exit_code == 0, f"`{script}` exited {reply.exit_code}: {reply.stderr.decode()}")
        return reply.stdout.decode()

    def remove_all(self):
        """Stops the pod and removes its containers and sandbox: for the
        pods a scenario makes for itself."""
        if not self.pod_id:
            return
        self.cri.call("StopPodSandbox", self.api.StopPodSandboxRequest(pod_sandbox_id=self.pod_id))
        for container_id in self.containers.values():
            self.cri.call("RemoveContainer", self.api.RemoveContainerRequest(container_id=container_id))
        self.cri.call("RemovePodSandbox", self.api.RemovePodSandboxRequest(pod_sandbox_id=self.pod_id))

    def wait_state(self, container, state, seconds=90):
        deadline = time.time() + seconds
        while time.time() < deadline:
            status = self.status(container)
            if status.state == state:
                return status
            time.sleep(0.2)
        raise Failed(f"container {container[:12]} did not reach state {state} in {seconds} s")

    def log_lines(self, name, seconds=30, until=None):
        path = os.path.join(self.logs, name + ".log")
        deadline = time.time() + seconds
        lines = []
        while time.time() < deadline:
            lines = open(path).read().splitlines() if os.path.exists(path) else []
            if until is None or until(lines):
                break
            time.sleep(0.1)
        return lines

    # MARK: scenarios

    def run_all(self):
        with self.scenario("run_pod_sandbox"):
            self.run_pod()
        if not self.pod_id:
            for name in SCENARIOS[1:]:
                with self.scenario(name):
                    raise Skip("the pod sandbox did not start")
            return
        main = None
        with self.scenario("create_start_container"):
            main = self.create_and_start()
        for name, body in (("pod_network", self.pod_network), ("pod_shared_namespaces", self.shared_namespaces),
                           ("exec_sync", self.exec_sync_scenario), ("exec_sync_timeout", self.exec_timeout),
                           ("exec_stdin", self.exec_stdin),
                           ("update_container_resources", self.update_resources),
                           ("update_memory_limit", self.update_memory)):
            with self.scenario(name):
                if not main:
                    raise Skip("the container did not start")
                body(main)
        self.exited_container()
        self.volume_scenarios()
        with self.scenario("pod_shared_pid"):
            self.shared_pid_pod()
        with self.scenario("stop_and_remove"):
            self.stop_and_remove()
        with self.scenario("nothing_left"):
            leftovers = self.leftovers()
            expect(not leftovers, "; ".join(leftovers))

    def run_pod(self):
        self.pod_config = self.config()
        request = self.api.RunPodSandboxRequest(config=self.pod_config, runtime_handler=self.handler)
        self.pod_id = self.cri.call("RunPodSandbox", request).pod_sandbox_id
        status = self.cri.call("PodSandboxStatus", self.api.PodSandboxStatusRequest(pod_sandbox_id=self.pod_id)).status
        expect(status.state == self.api.SANDBOX_READY, f"sandbox state {status.state}")
        expect(status.runtime_handler == self.handler, f"handler {status.runtime_handler!r}")
        expect(re.match(r"^10\.88\.\d+\.\d+$", status.network.ip), f"pod IP {status.network.ip!r}")
        self.pod_ip = status.network.ip

    def create_and_start(self):
        container = self.create("main", "trap 'exit 0' TERM; echo started; while true; do sleep 1; done")
        self.start(container)
        expect(self.status(container).state == self.api.CONTAINER_RUNNING, "not running after StartContainer")
        lines = self.log_lines("main", until=lambda lines: any(line.endswith(" started") for line in lines))
        expect(any(line.endswith("stdout F started") for line in lines), f"first log line missing: {lines}")
        return container

    def pod_network(self, container):
        """The pod's network namespace, joined by path: its eth0 has the
        pod's IP (in a VM: carried into it, the pause VM leaving it to the
        container), and a server there answers the node and, for a VM pod,
        a container of a linux-mode (vessel) pod."""
        expect(f"inet {self.pod_ip}/" in self.sh(container, "ip addr show eth0"), "eth0 lacks the pod IP")
        self.sh(container, "nc -ll -p 7000 -e echo from-the-pod </dev/null >/dev/null 2>&1 &")
        deadline, reply = time.time() + 20, b""
        while time.time() < deadline and not reply:
            with contextlib.suppress(OSError), socket.create_connection((self.pod_ip, 7000), timeout=5) as connection:
                reply = connection.recv(100)
            time.sleep(0.2)
        expect(reply == b"from-the-pod\n", f"the node got {reply!r} from {self.pod_ip}:7000")
        if not self.vm:
            return
        peer = Pod(self.cri, self.containerd, "vessel", self.results, name="pod-peer")
        try:
            peer.run_pod()
            client = peer.create("client", f"nc {self.pod_ip} 7000 </dev/null")
            peer.start(client)
            peer.wait_state(client, self.api.CONTAINER_EXITED, seconds=30)
            lines = peer.log_lines("client", until=lambda lines: lines)
            expect(any(line.endswith("stdout F from-the-pod") for line in lines), f"the linux-mode pod got {lines}")
        finally:
            peer.remove_all()

    def shared_namespaces(self, main):
        """A second container of the pod shares the pod's network, IPC and
        UTS namespaces with "main". Each is checked, and every one that is
        not shared is reported."""
        peer = None
        try:
            peer = self.create("peer", "exec nc -ll -p 7001 -e echo from-the-peer")
            self.start(peer)
            problems = []
            for check in (self.shared_loopback, self.shared_ipc, self.shared_uts):
                try:
                    check(main, peer)
                except Failed as reason:
                    problems.append(str(reason))
                except Exception as error:  # an RPC error: the next check may still tell something
                    problems.append(describe(error))
            expect(not problems, "; ".join(problems))
        finally:
            if peer:
                self.cri.call("StopContainer", self.api.StopContainerRequest(container_id=peer, timeout=0))
                self.cri.call("RemoveContainer", self.api.RemoveContainerRequest(container_id=peer))

    def shared_loopback(self, main, peer):
        """main reaches the peer's server on 127.0.0.1 (retried in one exec
        while the peer's server starts)."""
        script = "for try in $(seq 50); do nc 127.0.0.1 7001 </dev/null 2>/dev/null && exit; sleep 0.2; done"
        reply = self.exec_sync(main, ["sh", "-c", script]).stdout.decode()
        expect(reply == "from-the-peer\n", f"main got {reply!r} from the peer at 127.0.0.1:7001")

    def shared_ipc(self, main, peer):
        """A POSIX message queue the peer creates in /dev/mqueue is in
        main's and not in the node's: containerd mounts mqueue there, and a
        mqueue mount is the instance of the IPC namespace it was made in."""
        queue = "vessel-" + uuid.uuid4().hex[:8]
        for container in (main, peer):
            expect(" /dev/mqueue mqueue " in self.sh(container, "cat /proc/mounts"), "no mqueue at /dev/mqueue")
        self.sh(peer, f"touch /dev/mqueue/{queue}")
        try:
            seen = self.sh(main, "ls /dev/mqueue").split()
            expect(queue in seen, f"the peer's message queue {queue} is not in main's /dev/mqueue: {seen}")
            expect(queue not in self.node_message_queues(), f"the message queue {queue} is the node's")
        finally:
            self.exec_sync(peer, ["rm", "-f", f"/dev/mqueue/{queue}"])

    def shared_uts(self, main, peer):
        """Both have the pod's hostname (the sandbox config's)."""
        hostnames = [self.sh(container, "hostname").strip() for container in (main, peer)]
        expect(hostnames == [self.name] * 2, f"hostnames (main, peer) {hostnames}, not the pod's {self.name!r}")

    def node_message_queues(self):
        """The POSIX message queues of the node's IPC namespace (this
        process's), through an mqueue mount made for a moment in this run's
        private mount namespace."""
        target = self.containerd.path("node-mqueue")
        os.makedirs(target, exist_ok=True)
        cri_env.run("mount", "-t", "mqueue", "mqueue", target)
        try:
            return os.listdir(target)
        finally:
            cri_env.run("umount", target)

    def shared_pid_pod(self):
        """A pod of its own whose containers join its PID namespace: PID 1
        there is the pod's pause process (the image runs `/pause`), and the
        container's own shell is another process."""
        pod = Pod(self.cri, self.containerd, self.handler, self.results, name=self.name + "-pid", shared_pid=True)
        try:
            pod.run_pod()
            container = pod.create("main", "echo shell-pid:$$; trap 'exit 0' TERM; while true; do sleep 1; done")
            pod.start(container)
            lines = pod.log_lines("main", until=lambda lines: any(" shell-pid:" in line for line in lines))
            pids = [line.rsplit("shell-pid:", 1)[1] for line in lines if " shell-pid:" in line]
            expect(pids and pids[0] != "1", f"the container's shell has pid {pids or 'unknown'}: {lines}")
            reply = pod.exec_sync(container, ["cat", "/proc/1/cmdline"])
            arguments = reply.stdout.split(b"\0")
            expect(reply.exit_code == 0 and arguments[0] == b"/pause",
                   f"PID 1 is {reply.stdout!r} (exit {reply.exit_code}), not the pod's /pause")
        finally:
            pod.remove_all()
        leftovers = pod.leftovers()
        expect(not leftovers, "the shared-pid pod left " + "; ".join(leftovers))

    def exec_stdin(self, container):
        """The CRI Exec RPC with stdin, through containerd's streaming
        server (cri_stream.py): the process reads a line and exits 4; v4's
        status carries the exit code."""
        request = self.api.ExecRequest(container_id=container, cmd=["sh", "-c", "read line; echo got:$line; exit 4"],
                                       stdin=True, stdout=True, stderr=True)
        url = self.cri.call("Exec", request).url
        result = cri_stream.exec_with_stdin(url, b"hello\n")
        expect((result.stdout, result.stderr) == (b"got:hello\n", b""), f"got {result.stdout!r} {result.stderr!r}")
        expect(result.exit_code() == 4, f"exit status {result.status}")

    def exec_sync_scenario(self, container):
        reply = self.exec_sync(container, ["sh", "-c", "echo out; echo err >&2; exit 5"])
        expect((reply.stdout, reply.stderr, reply.exit_code) == (b"out\n", b"err\n", 5),
               f"got {reply.stdout!r} {reply.stderr!r} {reply.exit_code}")
        big = self.exec_sync(container, ["sh", "-c", "seq 1 20000"])
        expect(big.stdout.decode().split() == [str(n) for n in range(1, 20001)], "large output cut or reordered")

    def exec_timeout(self, container):
        started = time.time()
        try:
            reply = self.exec_sync(container, ["sleep", "997"], timeout=2)
            raise Failed(f"returned {reply.exit_code} instead of timing out")
        except Failed:
            raise
        except Exception as error:
            expect("timeout" in describe(error), describe(error))
        expect(time.time() - started < 30, f"the timeout took {time.time() - started:.0f} s")
        # At once: the exec slot of the timed-out process is not reused early.
        for round in range(3):
            expect(self.sh(container, f"echo again {round}") == f"again {round}\n", "exec after a timeout")
        deadline = time.time() + 20
        while "sleep 997" in self.sh(container, "ps -o args"):
            expect(time.time() < deadline, "the timed-out process still runs")
            time.sleep(0.5)

    def update_resources(self, container):
        """hugetlb.2MB.max: hugetlb is the one controller cgroup v2 has on
        this host (memory, cpu and pids limits cannot be enforced here). A
        VM's guest has every controller."""
        limit = 4 << 20
        if not self.vm and "hugetlb" not in open("/sys/fs/cgroup/cgroup.controllers").read().split():
            raise Skip("no hugetlb controller in this host's cgroup v2, the only one a live limit could be checked with")
        # Through `unified` (cgroup v2 files by name): runc 1.1's update
        # ignores hugepage_limits.
        self.update(container, self.api.LinuxContainerResources(unified={"hugetlb.2MB.max": str(limit)}))
        value = self.cgroup_file(container, "hugetlb.2MB.max")
        expect(value == str(limit), f"hugetlb.2MB.max is {value}, not {limit}")

    def update_memory(self, container):
        """A memory limit, enforced only where a memory controller exists: in
        a VM's guest, not on this host."""
        limit = 64 << 20
        if not self.vm and "memory" not in open("/sys/fs/cgroup/cgroup.controllers").read().split():
            raise Skip("no memory controller in this host's cgroup v2 (the v1 memory hierarchy is the machine "
                       "supervisor's): a memory limit cannot be set or enforced here")
        self.update(container, self.api.LinuxContainerResources(memory_limit_in_bytes=limit))
        value = self.cgroup_file(container, "memory.max")
        expect(value == str(limit), f"memory.max is {value}, not {limit}")

    def update(self, container, resources):
        self.cri.call("UpdateContainerResources",
                      self.api.UpdateContainerResourcesRequest(container_id=container, linux=resources))

    def cgroup_file(self, container, name):
        """A file of the container's own cgroup, read inside it."""
        return self.sh(container, f"cat /sys/fs/cgroup$(sed -n s/^0:://p /proc/self/cgroup)/{name}").strip()

    def exited_container(self):
        container = None
        with self.scenario("exit_code"):
            container = self.create("exits", "echo to-stdout; echo to-stderr >&2; exit 3")
            self.start(container)
            status = self.wait_state(container, self.api.CONTAINER_EXITED)
            expect(status.exit_code == 3, f"exit code {status.exit_code}")
            expect(status.started_at > 0 and status.finished_at > 0, "no start or finish time")
        with self.scenario("cri_log_format"):
            if not container:
                raise Skip("the container did not run")
            lines = self.log_lines("exits", until=lambda lines: len(lines) >= 2)
            parsed = [LOG_LINE.match(line) for line in lines]
            expect(all(parsed), f"not in the CRI log format: {lines}")
            streams = sorted((match.group(3), match.group(5)) for match in parsed)
            expect(streams == [("stderr", "to-stderr"), ("stdout", "to-stdout")], f"log lines {streams}")
        with self.scenario("stop_exited_container"):
            if not container:
                raise Skip("the container did not run")
            self.cri.call("StopContainer", self.api.StopContainerRequest(container_id=container, timeout=5))
            expect(self.status(container).state == self.api.CONTAINER_EXITED, "no longer exited")
            self.cri.call("RemoveContainer", self.api.RemoveContainerRequest(container_id=container))

    def volume_scenarios(self):
        """One container with a volume of each propagation mode. The host
        side is this mount namespace, containerd's."""
        api = self.api
        modes = {"private": api.PROPAGATION_PRIVATE, "host_to_container": api.PROPAGATION_HOST_TO_CONTAINER,
                 "bidirectional": api.PROPAGATION_BIDIRECTIONAL}
        mounts = []
        for mode, propagation in modes.items():
            source = os.path.join(self.volumes, mode)
            os.makedirs(source, exist_ok=True)
            with open(os.path.join(source, "before"), "w") as f:
                f.write(mode)
            mounts.append(api.Mount(container_path="/vol/" + mode, host_path=source, propagation=propagation))
        container = None
        try:
            container = self.create("volumes", "while true; do sleep 1; done", mounts, capabilities=["SYS_ADMIN"])
            self.start(container)
            # Mounts made on the host after the start, and in the container.
            for mode in modes:
                self.host_mount(os.path.join(self.volumes, mode, "from-host"), "host-" + mode)
                self.sh(container, f"mkdir -p /vol/{mode}/from-container && "
                                   f"mount -t tmpfs tmpfs /vol/{mode}/from-container && "
                                   f"echo container-{mode} > /vol/{mode}/from-container/marker")
        except Exception as error:
            for mode in modes:
                with self.scenario("volume_" + mode):
                    raise Failed("the volume container did not start: " + describe(error))
            return
        for mode in modes:
            with self.scenario("volume_" + mode):
                self.check_propagation(container, mode)
        self.cri.call("StopContainer", api.StopContainerRequest(container_id=container, timeout=0))
        self.cri.call("RemoveContainer", api.RemoveContainerRequest(container_id=container))
        self.unmount_host_side(modes)

    def host_mount(self, target, marker):
        os.makedirs(target, exist_ok=True)
        cri_env.run("mount", "-t", "tmpfs", "tmpfs", target)
        self.host_mounts.append(target)
        with open(os.path.join(target, "marker"), "w") as f:
            f.write(marker + "\n")

    def check_propagation(self, container, mode):
        inside = self.sh(container, f"cat /vol/{mode}/before; echo; cat /vol/{mode}/from-host/marker 2>/dev/null || echo none")
        seen_in_container = inside.split("\n")[1].strip()
        host_marker = os.path.join(self.volumes, mode, "from-container", "marker")
        seen_on_host = open(host_marker).read().strip() if os.path.exists(host_marker) else "none"
        expect(inside.startswith(mode), f"the volume's content is not there: {inside!r}")
        expected = {"private": ("none", "none"), "host_to_container": ("host-host_to_container", "none"),
                    "bidirectional": ("host-bidirectional", "container-bidirectional")}[mode]
        if self.vm:
            # The guest sees the host's directory through 9p, mounts and all,
            # whatever the mode; the guest's own mounts stay in the guest.
            expected = ("host-" + mode, "none")
        got = (seen_in_container, seen_on_host)
        expect(got == expected, f"(host mount seen in the container, container mount seen on the host) = {got}, "
                                f"expected {expected}")

    def unmount_host_side(self, modes):
        # A mount the container made in a bidirectional volume stays on the
        # host after the container: the kubelet's job, the test's here.
        for mode in modes:
            leftover = os.path.join(self.volumes, mode, "from-container")
            if os.path.ismount(leftover):
                cri_env.run("umount", leftover)
        for target in reversed(self.host_mounts):
            cri_env.run("umount", target, check=False)
        self.host_mounts = []

    def stop_and_remove(self):
        main = self.containers.get("main")
        if main:
            started = time.time()
            self.cri.call("StopContainer", self.api.StopContainerRequest(container_id=main, timeout=10))
            expect(self.status(main).state == self.api.CONTAINER_EXITED, "not exited after StopContainer")
            expect(time.time() - started < 10, "SIGTERM did not stop it: the grace period ran out")
            self.cri.call("RemoveContainer", self.api.RemoveContainerRequest(container_id=main))
        self.cri.call("StopPodSandbox", self.api.StopPodSandboxRequest(pod_sandbox_id=self.pod_id))
        self.cri.call("RemovePodSandbox", self.api.RemovePodSandboxRequest(pod_sandbox_id=self.pod_id))
        listed = self.cri.call("ListContainers", self.api.ListContainersRequest(
            filter=self.api.ContainerFilter(pod_sandbox_id=self.pod_id))).containers
        expect(not listed, f"containers still listed: {[c.id for c in listed]}")

    def leftovers(self):
        """What the pod left: processes (a shim, a VM, a container process),
        cgroups, mounts, network namespaces, runc state and sockets."""
        ids = [self.pod_id] + list(self.containers.values())
        deadline = time.time() + 20
        while True:
            found = leftovers_of(ids, self.containerd)
            if not found or time.time() > deadline:
                return found
            time.sleep(0.5)


def leftovers_of(ids, containerd):
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{pid}/stat") as f:
                zombie = f.read().rsplit(")", 1)[1].split()[0] == "Z"
        except OSError:
            continue
        if not zombie and any(i in cmdline for i in ids):
            found.append(f"process {pid}: {cmdline[:120]}")
    with open("/proc/self/mountinfo") as f:
        mounts = f.read()
    found += [f"mount of {i[:12]}" for i in ids if i in mounts]
    for root, dirs, files in os.walk("/sys/fs/cgroup"):
        found += [f"cgroup {root}/{d}" for d in dirs if any(i in d for i in ids)]
    for directory in ("/run/containerd/runc/k8s.io", os.path.join(containerd.state, "netns"),
                      os.path.join(containerd.state, "io.containerd.runtime.v2.task", "k8s.io")):
        if os.path.isdir(directory):
            found += [f"{directory}/{name}" for name in os.listdir(directory)
                      if name.startswith("cni-") or any(i in name for i in ids)]
    return found


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--scratch", required=True)
    parser.add_argument("--vessel", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--handlers", default=",".join(cri_env.HANDLERS))
    args = parser.parse_args()
    results = Results(args.out)
    cri_env.Isolation(args.scratch).enter()
    containerd = cri_env.Containerd(args.scratch, args.vessel)
    containerd.configure()
    containerd.start()
    try:
        containerd.import_images()
        cri = cri_env.CRI(containerd.socket, args.scratch)
        for handler in args.handlers.split(","):
            Pod(cri, containerd, handler, results).run_all()
    finally:
        containerd.stop()
        after = results.data["after"]
        after["containerd_log_errors"] = [
            line[:300] for line in open(containerd.path("containerd.log")).read().splitlines() if "level=error" in line]
        after["leftovers"] = cri_env.sweep()
        results.save()


if __name__ == "__main__":
    main()
