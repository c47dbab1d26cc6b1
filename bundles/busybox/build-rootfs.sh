#!/usr/bin/env bash
# Build bundles/busybox/rootfs/ from Debian's busybox-static package.
# Idempotent: the rootfs is deleted and rebuilt on every run.
# Works from any cwd. Needs root only if busybox-static must be installed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
rootfs="$here/rootfs"
busybox=/bin/busybox

is_static() {
    # A static ELF has no PT_INTERP (no dynamic loader). Prefer `file` when
    # present; fall back to ldd, which says "not a dynamic executable".
    [ -x "$1" ] || return 1
    if command -v file >/dev/null 2>&1; then
        file -L "$1" | grep -q 'statically linked'
    else
        ! ldd "$1" >/dev/null 2>&1
    fi
}

if ! is_static "$busybox"; then
    echo "build-rootfs: $busybox missing or not static; installing busybox-static" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y busybox-static
    is_static "$busybox" || { echo "build-rootfs: $busybox still not static after install" >&2; exit 1; }
fi

rm -rf -- "$rootfs"
mkdir -p "$rootfs"
cd "$rootfs"

mkdir -p bin sbin usr/bin usr/sbin etc proc sys dev tmp root var run
chmod 1777 tmp
chmod 0700 root

install -m 0755 "$busybox" bin/busybox

# One symlink per applet, all in bin/ (the config's PATH covers it).
count=0
while IFS= read -r applet; do
    [ -n "$applet" ] || continue
    [ "$applet" = busybox ] && continue
    ln -sf busybox "bin/$applet"
    count=$((count + 1))
done < <(bin/busybox --list)

cat > etc/passwd <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD

cat > etc/group <<'GROUP'
root:x:0:
nogroup:x:65534:
GROUP

echo vessel > etc/hostname

echo "build-rootfs: built $rootfs ($count applets)"
