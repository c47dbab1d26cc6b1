#!/bin/bash
# The whole test suite: schema checks, unit tests and integration tests that
# run real containers as root (under scripts/cgroup2-ns on a hybrid host).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH
[ "$(id -u)" = 0 ] || { echo "test.sh: run as root (integration tests start containers)" >&2; exit 1; }
scripts/install-deps.sh
bundles/busybox/build-rootfs.sh
scripts/fetch-vm-kernel.sh
bundles/probe/build-rootfs.sh
echo "== building"
swift build --build-tests 2>&1 | grep -E "error|warning: unre|Compiling vessel|Build complete" || true
swift build --build-tests >/dev/null
echo "== swift format"
# .swift-format: the toolchain's formatter with 4-space indentation, 180
# columns, and the lint rules the code was not written to left off.
swift format lint --strict --recursive Sources Tests
echo "== config schema"
python3 config-schema/check.py --self-test | tail -n 1
python3 config-schema/check.py bundles/*/config.json
spec_dir=$(mktemp -d)
.build/debug/vessel spec --bundle "$spec_dir"
mkdir "$spec_dir/rootless"
.build/debug/vessel spec --rootless --bundle "$spec_dir/rootless"
python3 config-schema/check.py "$spec_dir/config.json" "$spec_dir/rootless/config.json"
rm -rf "$spec_dir"
echo "== unit and integration tests"
# Rootless vessel and rootless podman run in this XCTest run too
# (RootlessTests, PodmanRootlessTests): each makes a user of its own, with
# subordinate ids, and removes it afterwards.
log=$(mktemp)
status=0
scripts/cgroup2-ns swift test --skip-build --disable-swift-testing >"$log" 2>&1 || status=$?
# Failures, skips (with their reasons) and the totals; the full log on failure.
grep -E "error:|skipped|Executed|passed after|failed after" "$log" | grep -v "started at" || true
[ "$status" = 0 ] || { echo "== full test log"; cat "$log"; }
# XCTest's grand total as the plain closing line: N passed, N failed, N skipped.
total=$(grep -E "Executed [0-9]+ tests?" "$log" | tail -n 1)
rm -f "$log"
executed=$(sed -E 's/.*Executed ([0-9]+) tests?.*/\1/' <<<"$total")
failed=$(grep -oE "[0-9]+ failures?" <<<"$total" | grep -oE "^[0-9]+" || echo 0)
skipped=$(grep -oE "[0-9]+ tests? skipped" <<<"$total" | grep -oE "^[0-9]+" || echo 0)
if [ -n "$executed" ]; then
  echo "$((executed - failed - skipped)) passed, $failed failed, $skipped skipped"
fi
exit "$status"
