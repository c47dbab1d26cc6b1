"""A private containerd with the CRI plugin, for vessel's CRI tests and
benchmark. Runs only inside a new mount and network namespace (the caller
starts it under `unshare --mount --net --propagation private`): the CNI
bridge, its addresses and iptables rules, the pod network namespaces, the
shims' sockets and the runc state under /run/containerd all stay there.

Used by cri_suite.py (the scenarios CRITests.swift asserts) and
bench/cri-bench.py.
"""
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
PAUSE_IMAGE = "vessel.test/pause:1"
BUSYBOX_IMAGE = "vessel.test/busybox:1"
HANDLERS = ("runc", "vessel", "vessel-vm")


def run(*args, **kwargs):
    kwargs.setdefault("check", True)
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("text", True)
    return subprocess.run(list(args), **kwargs)


def namespace_id(kind, pid="self"):
    return os.readlink(f"/proc/{pid}/ns/{kind}")


class Isolation:
    """Makes the namespaces this process runs in (made by `unshare`) ready
    for containerd, and refuses to run in the host's own namespaces."""

    def __init__(self, scratch):
        self.scratch = scratch

    def enter(self):
        for kind in ("mnt", "net"):
            # `unshare` execs this program: its parent is still outside.
            if namespace_id(kind) == namespace_id(kind, os.getppid()):
                sys.exit(f"cri_env: not in a private {kind} namespace: run under "
                         "`unshare --mount --net --propagation private`")
        run("ip", "link", "set", "lo", "up")
        # Everything containerd, its shims, runc and CNI make under /run
        # (shim sockets, /run/containerd/runc/k8s.io, xtables.lock).
        run("mount", "-t", "tmpfs", "-o", "mode=0755", "tmpfs", "/run")
        self._private_var_lib()
        # Volumes must be on a shared mount for HostToContainer and
        # Bidirectional propagation (containerd checks).
        volumes = self.path("volumes")
        os.makedirs(volumes, exist_ok=True)
        run("mount", "--bind", volumes, volumes)
        run("mount", "--make-rshared", volumes)

    def _private_var_lib(self):
        """CNI caches results in /var/lib/cni (not configurable through
        containerd 1.6): /var/lib becomes a tmpfs here, with each of the
        host's entries bound back. The host's /var/lib is reached through
        the new /run (a tmpfs), never through the scratch directory, which
        callers remove."""
        original = "/run/host-var-lib"
        os.makedirs(original, exist_ok=True)
        run("mount", "--rbind", "/var/lib", original)
        run("mount", "-t", "tmpfs", "-o", "mode=0755", "tmpfs", "/var/lib")
        for name in os.listdir(original):
            source, target = os.path.join(original, name), os.path.join("/var/lib", name)
            if os.path.isdir(source) and not os.path.islink(source):
                os.mkdir(target)
            elif os.path.islink(source):
                os.symlink(os.readlink(source), target)
                continue
            else:
                open(target, "w").close()
            run("mount", "--rbind", source, target)

    def path(self, *parts):
        return os.path.join(self.scratch, *parts)


class Containerd:
    def __init__(self, scratch, vessel):
        self.scratch = scratch
        self.vessel = vessel
        self.socket = os.path.join(scratch, "containerd.sock")
        self.state = os.path.join(scratch, "state")
        self.process = None

    def path(self, *parts):
        return os.path.join(self.scratch, *parts)

    def configure(self):
        os.makedirs(self.path("cni"), exist_ok=True)
        os.makedirs(self.path("bin"), exist_ok=True)
        vessel_vm = self.path("bin", "vessel-vm")
        if not os.path.islink(vessel_vm):
            os.symlink(self.vessel, vessel_vm)
        with open(self.path("config.toml"), "w") as f:
            f.write(config_toml(self.scratch, self.socket, self.state, {
                "runc": "/usr/sbin/runc", "vessel": self.vessel, "vessel-vm": vessel_vm}))
        with open(self.path("cni", "10-vessel-test.conflist"), "w") as f:
            json.dump(cni_conflist(self.path("cni-ipam")), f, indent=2)

    def start(self, timeout=30):
        log = open(self.path("containerd.log"), "w")
        self.process = subprocess.Popen(["containerd", "--config", self.path("config.toml")],
                                        stdout=log, stderr=subprocess.STDOUT)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if os.path.exists(self.socket) and self.ctr("version", check=False).returncode == 0:
                return
            if self.process.poll() is not None:
                raise RuntimeError("containerd exited: " + self.log_tail())
            time.sleep(0.1)
        raise RuntimeError("containerd did not start: " + self.log_tail())

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log_tail(self, lines=5):
        try:
            with open(self.path("containerd.log")) as f:
                return " | ".join(f.read().splitlines()[-lines:])
        except OSError:
            return ""

    def ctr(self, *args, check=True):
        return run("ctr", "--address", self.socket, "-n", "k8s.io", *args, check=check)

    def import_images(self):
        """The pause image (a static C program) and busybox, built here from
        Debian's packages, imported into containerd's k8s.io namespace."""
        pause_root = self.path("pause-rootfs")
        os.makedirs(pause_root, exist_ok=True)
        run("gcc", "-static", "-Os", "-s", "-o", os.path.join(pause_root, "pause"), os.path.join(HERE, "pause.c"))
        builder = os.path.join(REPO, "bundles", "image", "build-oci-image.py")
        busybox_root = os.path.join(REPO, "bundles", "busybox", "rootfs")
        for rootfs, name, entry in ((pause_root, PAUSE_IMAGE, ["/pause"]), (busybox_root, BUSYBOX_IMAGE, [])):
            archive = self.path(name.replace("/", "_").replace(":", "_") + ".tar")
            run(sys.executable, builder, rootfs, archive, name, *entry)
            self.ctr("images", "import", archive)


def config_toml(scratch, socket, state, binaries):
    cri = 'plugins."io.containerd.grpc.v1.cri"'
    runtimes = "".join(f"""
[{cri}.containerd.runtimes.{name}]
  runtime_type = "io.containerd.runc.v2"
[{cri}.containerd.runtimes.{name}.options]
  BinaryName = "{binary}"
""" for name, binary in binaries.items())
    # restrict_oom_score_adj: no CAP_SYS_RESOURCE here; disable_cgroup: no
    # cpu controller in cgroup v2 here (containerd would ask for cpu shares).
    return f"""version = 2
root = "{scratch}/root"
state = "{state}"
[grpc]
  address = "{socket}"
[{cri}]
  sandbox_image = "{PAUSE_IMAGE}"
  restrict_oom_score_adj = true
  disable_cgroup = true
  disable_apparmor = true
  # hugetlb is the one controller cgroup v2 has here: UpdateContainerResources
  # is checked with it (containerd drops hugepage limits by default).
  disable_hugetlb_controller = false
  netns_mounts_under_state_dir = true
  # The streaming server behind the Exec RPC's URL (cri_stream.py): on
  # loopback of this run's network namespace, on a free port.
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
[{cri}.cni]
  bin_dir = "/usr/lib/cni"
  conf_dir = "{scratch}/cni"
[{cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"
{runtimes}"""


def cni_conflist(ipam_dir):
    """Debian's containernetworking-plugins: a bridge with host-local
    addresses (leases kept in the test's directory) and portmap; containerd
    adds the loopback plugin itself."""
    return {
        "cniVersion": "1.0.0",
        "name": "vessel-test",
        "plugins": [
            {"type": "bridge", "bridge": "cni0", "isGateway": True, "ipMasq": True, "hairpinMode": True,
             "ipam": {"type": "host-local", "dataDir": ipam_dir,
                      "ranges": [[{"subnet": "10.88.0.0/16"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
    }


def load_stubs(scratch):
    """runtime.v1 stubs generated from api.proto with grpcio-tools."""
    out = os.path.join(scratch, "cri-gen")
    os.makedirs(out, exist_ok=True)
    run(sys.executable, "-m", "grpc_tools.protoc", "-I", HERE, f"--python_out={out}", f"--grpc_python_out={out}",
        os.path.join(HERE, "api.proto"))
    sys.path.insert(0, out)
    import api_pb2
    import api_pb2_grpc
    return api_pb2, api_pb2_grpc


class CRI:
    """A CRI client: the runtime and image services on containerd's socket."""

    def __init__(self, socket, scratch):
        import grpc
        self.grpc = grpc
        self.api, stubs = load_stubs(scratch)
        self.channel = grpc.insecure_channel("unix://" + socket)
        self.runtime = stubs.RuntimeServiceStub(self.channel)
        self.images = stubs.ImageServiceStub(self.channel)

    def call(self, method, request, timeout=180):
        return getattr(self.runtime, method)(request, timeout=timeout)


def sweep():
    """What outlived containerd in this run's namespaces (shims, VMs,
    runtime state), killed here: all of it was started by this run."""
    found = []
    own = namespace_id("net")
    for pid in filter(str.isdigit, os.listdir("/proc")):
        if int(pid) == os.getpid():
            continue
        try:
            if namespace_id("net", pid) == own:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    found.append(f"process {pid}: " + f.read().replace(b"\0", b" ").decode(errors="replace")[:120])
                os.kill(int(pid), 9)
        except OSError:
            pass
    for directory in ("/run/containerd/runc/k8s.io", "/run/containerd/s"):
        if os.path.isdir(directory):
            found += [f"{directory}/{name}" for name in os.listdir(directory)]
    return found


def mounts_under(directory):
    """Mount points at or below `directory` in this mount namespace."""
    with open("/proc/self/mountinfo") as f:
        points = [line.split()[4] for line in f]
    return [point for point in points if point == directory or point.startswith(directory.rstrip("/") + "/")]
