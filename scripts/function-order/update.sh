#!/bin/bash
# Regenerates scripts/function-order/order.txt, the order in which the
# release link lays out vessel's functions (see Package.swift): the
# functions that scenario.sh's commands run, in the order they first run,
# traced with int3 breakpoints (trace-functions.c). Run as root after changes
# to what those commands do; a stale list only costs a few more pages.
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/build-release.sh 2>&1 | tail -n 1
binary=$PWD/.build-release/release/vessel
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cc -O2 -Wall -o "$scratch/trace-functions" scripts/function-order/trace-functions.c
readelf -sW "$binary" | awk '$4 == "FUNC" && $7 != "UND" && $2 !~ /^0+$/ { print $2, $8 }' > "$scratch/functions"
scripts/cgroup2-ns "$scratch/trace-functions" "$binary" "$scratch/functions" "$scratch/order" \
    -- scripts/function-order/scenario.sh "$binary" "$scratch"
awk '!seen[$0]++' "$scratch/order" > scripts/function-order/order.txt
echo "update.sh: $(wc -l < scripts/function-order/order.txt) functions in scripts/function-order/order.txt"
