#!/bin/bash
# Installs the Debian packages vessel builds and tests with (root, Debian 12).
set -euo pipefail
packages=(libseccomp-dev libcap-dev busybox-static jq python3-jsonschema util-linux)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
