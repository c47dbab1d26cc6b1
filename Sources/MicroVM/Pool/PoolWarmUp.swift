import OCI

// The container a pool VM runs once before it is ready. Under TCG a fresh
// QEMU translates every guest path the first time it runs, which no saved
// template carries (docs/decisions.md, "VM templates"); running one
// container with the default config (namespaces, the usual mounts, the
// device filter, pivot_root into a 9p root, an exec over 9p) has TCG
// translate most of what the real container's create and start will run.
// Its program is vessel itself, bound from the host read-only; the
// libraries it links are the guest's own (the initramfs has them at the
// same paths).
public enum PoolWarmUp {
    public static let id = "warm-up"
    /// The entries of the warm-up's directory in the pod share.
    public static let rootfsName = "rootfs"
    public static let programName = "vessel"

    public static func join(libraries: [String]) -> PodJoin {
        var spec = DefaultSpec.make()
        spec.root = Root(path: PodShare.guestPath(member: id, rootfsName), readonly: true)
        spec.process?.terminal = false
        spec.process?.args = ["/" + programName, "--version"]
        var mounts = spec.mounts ?? []
        mounts.append(
            Mount(destination: "/" + programName, type: "bind", source: PodShare.guestPath(member: id, programName), options: ["bind", "ro"]))
        for library in libraries {
            mounts.append(Mount(destination: library, type: "bind", source: library, options: ["bind", "ro"]))
        }
        spec.mounts = mounts
        return PodJoin(id: id, spec: spec, joins: [], slot: 0)
    }
}
