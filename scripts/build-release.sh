#!/bin/bash
# The release build of vessel, in .build-release/release/vessel: the Swift
# standard library linked statically (DESIGN.md, decision 3), with the link
# settings Package.swift adds for release. Two flags only a build command can
# give: generic metadata through accessors for the dependencies' code too
# (Package.swift sets it for vessel's own targets), and no $ORIGIN run path
# (ld.so would look for every library in the binary's directory first, about
# 40 failed system calls per start). docs/decisions.md, "Start-up and footprint".
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH
swift build -c release --static-swift-stdlib --scratch-path .build-release --disable-local-rpath \
    -Xswiftc -Xfrontend -Xswiftc -disable-concrete-type-metadata-mangled-name-accessors "$@"
