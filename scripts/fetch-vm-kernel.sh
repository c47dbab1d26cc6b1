#!/bin/bash
# Fetches Debian's kernel for vessel's --vm mode: `apt-get download` of the
# package that linux-image-amd64 depends on, unpacked with dpkg-deb into
# vessel's own directory. Nothing is installed on the host.
# Result: $VESSEL_VM_DIR/kernel/{vmlinuz,vmlinux,modules/,release}
# (default /var/lib/vessel/vm).
set -euo pipefail
dir=${VESSEL_VM_DIR:-/var/lib/vessel/vm}/kernel
if [ -e "$dir/vmlinuz" ] && [ -e "$dir/vmlinux" ] && [ -e "$dir/modules/virtio_net.ko" ]; then
  echo "fetch-vm-kernel: $dir/vmlinuz is there ($(cat "$dir/release"))"
  exit 0
fi
package=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
[ -n "$package" ] || { echo "fetch-vm-kernel: apt-cache knows no linux-image-amd64 dependency" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "fetch-vm-kernel: downloading $package"
(cd "$work" && apt-get download -qq "$package")
dpkg-deb -x "$work"/*.deb "$work/unpacked"
release=${package#linux-image-}
mkdir -p "$dir.tmp"
cp "$work/unpacked/boot/vmlinuz-$release" "$dir.tmp/vmlinuz"
# Only the drivers the guest needs: virtio transports, 9p, virtio-serial and
# virtio-net.
mkdir -p "$dir.tmp/modules"
for module in virtio_ring virtio virtio_mmio netfs fscache 9pnet 9pnet_virtio 9p virtio_console \
              failover net_failover virtio_net; do
  file=$(find "$work/unpacked/lib/modules/$release" -name "$module.ko*" | head -n 1)
  [ -n "$file" ] || continue   # built into this kernel
  case "$file" in
    *.xz) xz -dc "$file" > "$dir.tmp/modules/$module.ko" ;;
    *.zst) zstd -qdc "$file" > "$dir.tmp/modules/$module.ko" ;;
    *) cp "$file" "$dir.tmp/modules/$module.ko" ;;
  esac
done
# The uncompressed ELF kernel as well: QEMU boots it through its PVH entry
# point, which skips the bzImage's self-decompression (seconds under TCG).
offset=$(python3 -c 'import sys; d=open(sys.argv[1],"rb").read(); print(d.find(b"\xfd7zXZ\x00"))' "$dir.tmp/vmlinuz")
if [ "$offset" -gt 0 ]; then
  # xz complains about the bytes after its stream; the ELF check decides.
  tail -c +"$((offset + 1))" "$dir.tmp/vmlinuz" | xz -dc > "$dir.tmp/vmlinux" 2>/dev/null || true
fi
if [ -s "$dir.tmp/vmlinux" ] && readelf -n "$dir.tmp/vmlinux" 2>/dev/null | grep -q 0x00000012; then
  echo "fetch-vm-kernel: extracted vmlinux (PVH entry) for faster boots"
else
  rm -f "$dir.tmp/vmlinux"
fi
echo "$release" > "$dir.tmp/release"
rm -rf "$dir" && mv "$dir.tmp" "$dir"
echo "fetch-vm-kernel: $dir/vmlinuz ($release), $(ls "$dir/modules" | wc -l) modules"
