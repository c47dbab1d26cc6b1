#!/bin/bash
# The demo: install what vessel needs, build a release binary (Swift standard
# library linked statically), build the busybox bundle and run a container.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH
[ "$(id -u)" = 0 ] || { echo "setup.sh: run as root (containers need it)" >&2; exit 1; }
scripts/install-deps.sh
echo "setup: building vessel (release, static Swift stdlib)"
scripts/build-release.sh 2>&1 | tail -n 1
install -m 0755 .build-release/release/vessel /usr/local/bin/vessel
ln -sf vessel /usr/local/bin/vessel-vm
echo "setup: installed /usr/local/bin/vessel ($(vessel --version | head -n 1))"
bundles/busybox/build-rootfs.sh
scripts/fetch-vm-kernel.sh
bundles/probe/build-rootfs.sh
echo "setup: running the busybox bundle:"
echo "+ vessel run --bundle bundles/busybox demo-$$"
scripts/cgroup2-ns vessel run --bundle bundles/busybox "demo-$$"
echo "setup: the same bundle in a microVM (QEMU microvm, Debian's kernel; TCG where KVM cannot boot it):"
echo "+ vessel --vm run --bundle bundles/busybox demo-vm-$$"
scripts/cgroup2-ns vessel --vm run --bundle bundles/busybox "demo-vm-$$"
