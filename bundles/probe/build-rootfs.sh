#!/usr/bin/env bash
# Builds bundles/probe/rootfs: the busybox rootfs from Debian's
# busybox-static (bundles/busybox/build-rootfs.sh) plus the probe script and
# the boundary probe (boundary.c, a static C program: the shell cannot make
# the system calls it tries). `vessel compare` runs it with the compared
# bundle's settings.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$here/../busybox/build-rootfs.sh" >/dev/null
rm -rf -- "$here/rootfs"
cp -a "$here/../busybox/rootfs" "$here/rootfs"
install -m 0755 "$here/probe.sh" "$here/rootfs/probe"
gcc -static -O2 -Wall -Wextra -Werror -o "$here/rootfs/boundary" "$here/boundary.c"
echo "build-rootfs: built $here/rootfs (busybox, /probe and /boundary)"
