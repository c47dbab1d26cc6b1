#!/bin/bash
# Installs the Debian packages vessel builds and tests with (root, Debian 12).
# chromium renders vessel compare's HTML report in CompareTests; CRITests
# runs containerd's CRI with Debian's CNI plugins (containernetworking-plugins,
# iptables, iproute2) and a gRPC client from grpcio-tools (PyPI); uidmap
# (setuid newuidmap/newgidmap) maps subordinate ids for rootless vessel and
# rootless podman, whose network is slirp4netns. VMNetworkTests builds with
# buildah; bench/net-bench.py measures TCP with iperf3.
set -euo pipefail
packages=(libseccomp-dev libcap-dev busybox-static jq util-linux procps python3 python3-pip gcc podman containerd containernetworking-plugins iptables iproute2 qemu-system-x86 xz-utils runc crun chromium uidmap slirp4netns buildah iperf3)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# check.py needs jsonschema 4.18+ (draft 2020-12 with referencing);
# Debian 12 packages an older one, so take it from PyPI when missing.
if ! python3 -c 'import jsonschema, referencing' 2>/dev/null; then
  echo "install-deps: installing jsonschema from PyPI"
  python3 -m pip install -q 'jsonschema>=4.18' 2>/dev/null || python3 -m pip install -q --break-system-packages 'jsonschema>=4.18'
fi
# CRITests generates its CRI client with grpcio-tools, run by Debian's
# python3 (/usr/bin/python3, which the tests call).
if ! /usr/bin/python3 -c 'import grpc, grpc_tools' 2>/dev/null; then
  echo "install-deps: installing grpcio-tools from PyPI"
  /usr/bin/python3 -m pip install -q grpcio-tools 2>/dev/null || /usr/bin/python3 -m pip install -q --break-system-packages grpcio-tools
fi
