// swift-tools-version:6.2
import PackageDescription

let package = Package(
    name: "vessel",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "vessel", targets: ["vessel"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // The system calls Swift cannot make cleanly: clone3, pivot_root, prctl,
        // ioctl, SCM_RIGHTS. Links libseccomp and libcap. No policy here.
        .target(
            name: "CVessel",
            linkerSettings: [.linkedLibrary("seccomp"), .linkedLibrary("cap")]
        ),
        // vessel's one error type (kind, field, errno, cause, context).
        .target(name: "Errors", dependencies: [.product(name: "SystemPackage", package: "swift-system")]),
        // runtime-spec types and validation: pure, no system calls.
        .target(name: "OCI", dependencies: ["Errors"]),
        // OS helpers every process of vessel's uses: files, sockets, framed
        // messages, spawning through the shim, signals, ptys.
        .target(
            name: "OSKit",
            dependencies: ["Errors", "CVessel", .product(name: "SystemPackage", package: "swift-system")]
        ),
        // The namespace backend: everything the container's init does.
        .target(
            name: "Linux",
            dependencies: ["Errors", "OSKit", "OCI", "CVessel", .product(name: "SystemPackage", package: "swift-system")]
        ),
        // The vm backend's host side: kernel, initramfs, QEMU, the supervisor.
        .target(name: "MicroVM", dependencies: ["Errors", "OSKit", "OCI", "CVessel"]),
        // Lifecycle: state store, locking, hooks, create/start/kill/delete.
        .target(
            name: "Runtime",
            dependencies: ["Errors", "OSKit", "OCI", "Linux", "MicroVM", "CVessel", .product(name: "SystemPackage", package: "swift-system")]
        ),
        // `vessel compare`: one bundle in both modes, side by side.
        .target(name: "Compare", dependencies: ["Errors", "OSKit", "OCI", "Linux", "MicroVM", "Runtime", "CVessel"]),
        // PID 1 inside the microVM: runs the bundle with the linux backend.
        .target(name: "GuestAgent", dependencies: [
            "Errors", "OSKit", "Runtime", "MicroVM", "Linux", "OCI", "CVessel", .product(name: "SystemPackage", package: "swift-system"),
        ]),
        .executableTarget(
            name: "vessel",
            dependencies: [
                "Errors", "OSKit", "Runtime", "OCI", "MicroVM", "GuestAgent", "Compare", "Linux",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "OCITests", dependencies: ["Errors", "OCI"]),
        .testTarget(name: "LinuxTests", dependencies: ["Errors", "OSKit", "Linux", "OCI", "CVessel"]),
        // The lifecycle's logic, without root: a scratch state store.
        .testTarget(name: "RuntimeTests", dependencies: ["Errors", "OCI", "Linux", "Runtime"]),
        .testTarget(name: "MicroVMTests", dependencies: ["Errors", "OSKit", "MicroVM", "Linux", "OCI"]),
        // Linux and MicroVM for their message types, to speak to a supervisor.
        .testTarget(name: "IntegrationTests", dependencies: ["Errors", "OSKit", "OCI", "Linux", "MicroVM"]),
        // The CLI's two parsers against their shared table, without root.
        .testTarget(name: "VesselTests", dependencies: ["vessel"]),
    ],
    swiftLanguageModes: [.v6]
)

// Our own targets fail on any warning (issue 16); dependencies keep their
// own settings. treatAllWarnings (tools 6.2) rather than unsafeFlags: the
// package stays usable as a dependency, and SwiftPM knows what it means.
for target in package.targets {
    target.swiftSettings = (target.swiftSettings ?? []) + [.treatAllWarnings(as: .error)]
    if target.name == "CVessel" { target.cSettings = (target.cSettings ?? []) + [.treatAllWarnings(as: .error)] }
}

// Start-up cost (docs/decisions.md, "Start-up and footprint"): concrete generic types
// (the Codable containers above all) get their metadata through accessors
// that pass the witness tables, not by mangled name, which makes the runtime
// check each conformance by scanning every conformance record of the binary
// (about 4,800) the first time: about 1 ms of CPU per `run`.
for target in package.targets where [.regular, .executable].contains(target.type) && target.name != "CVessel" {
    target.swiftSettings = (target.swiftSettings ?? []) + [
        .unsafeFlags(["-Xfrontend", "-disable-concrete-type-metadata-mangled-name-accessors"]),
    ]
}

// The release link (docs/decisions.md, "Start-up and footprint"): lld (it
// comes with the toolchain) lays out first the functions that the lifecycle
// commands run, in the order they first run (scripts/function-order), so a
// command maps fewer pages of the 11 MB of code; relative relocations are
// packed (DT_RELR, glibc 2.36): 10 KB instead of 1 MB to read at each start;
// only the symbols the shared libraries need are exported; and libstdc++ is
// linked statically (scripts/static-libstdc++): no 2 MB library to map,
// relocate and resolve symbols against at each start.
for target in package.targets where target.type == .executable {
    target.linkerSettings = (target.linkerSettings ?? []) + [
        .unsafeFlags([
            "-use-ld=lld",
            "-L\(Context.packageDirectory)/scripts/static-libstdc++",
            "-Xlinker", "--symbol-ordering-file=\(Context.packageDirectory)/scripts/function-order/order.txt",
            "-Xlinker", "--no-warn-symbol-ordering",
            "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs",
            "-Xlinker", "--no-export-dynamic",
            // DWARF is 8 MB of the file and never loaded; .symtab stays for perf.
            "-Xlinker", "--strip-debug",
            // libgcc's unwinder linked in: no libgcc_s.so to map and relocate,
            // and no run of its constructor, whose CPUID probes trap to the
            // hypervisor in a VM (0.1 ms of each start here).
            "-Xclang-linker", "-static-libgcc",
        ], .when(platforms: [.linux], configuration: .release)),
    ]
}
