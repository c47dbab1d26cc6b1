#!/bin/bash
# The commands whose code update.sh lays out together: what engines call for
# each container (the fast path's forms), on the busybox bundle. Run under
# scripts/cgroup2-ns by update.sh; $1 is the vessel binary, $2 a scratch dir.
set -u
vessel=$1 scratch=$2
root=$scratch/state
bundle=$scratch/bundle
mkdir -p "$bundle" "$root"
python3 - "$bundle" "$(cd "$(dirname "$0")/../.." && pwd)/bundles/busybox/rootfs" <<'PY'
import json, sys
bundle, rootfs = sys.argv[1], sys.argv[2]
with open(rootfs + "/../config.json") as f:
    config = json.load(f)
config["root"] = {"path": rootfs, "readonly": True}
config["process"].update(args=["sleep", "100"], terminal=False)
with open(bundle + "/config.json", "w") as f:
    json.dump(config, f)
PY
"$vessel" --root "$root" create --bundle "$bundle" c1
"$vessel" --root "$root" state c1 >/dev/null
"$vessel" --root "$root" start c1
"$vessel" --root "$root" exec c1 true
"$vessel" --root "$root" kill c1 KILL
sleep 0.2
"$vessel" --root "$root" delete c1
sed -i 's/"sleep", "100"/"true"/' "$bundle/config.json"
"$vessel" --root "$root" run --bundle "$bundle" r1
"$vessel" --root "$root" list >/dev/null
exit 0
