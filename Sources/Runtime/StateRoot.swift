import Errors
import Glibc
import OSKit

// Where containers' state lives when --root is not given. As runc: root on
// the host keeps /run/vessel; a user (or root of a user's namespace, unless
// USER says root) gets $XDG_RUNTIME_DIR/vessel. With no XDG_RUNTIME_DIR a
// user gets /run/user/<uid>/vessel where logind made that directory for
// them, else /tmp/vessel-<uid>, podman's fallbacks: both checked to be the
// user's own, since another user could have made the /tmp one first.
public enum StateRoot {
    public static let system = "/run/vessel"

    /// Where the state lives, and whether that directory must be checked
    /// to be the user's (every place but the host's /run/vessel).
    public struct Choice: Equatable, Sendable {
        public var path: String
        public var isUsers: Bool
    }

    /// The choice from the facts it depends on (pure, for tests).
    public static func choose(
        xdgRuntimeDir: String?, user: String?, euid: uid_t, inUserNamespace: Bool,
        runUserDirectoryIsOwn: Bool
    ) -> Choice {
        let honoursXDG = euid != 0 || (inUserNamespace && user != "root")
        if let xdg = xdgRuntimeDir, !xdg.isEmpty, honoursXDG {
            return Choice(path: xdg + "/vessel", isUsers: true)
        }
        guard euid != 0 else { return Choice(path: system, isUsers: false) }
        if runUserDirectoryIsOwn { return Choice(path: "/run/user/\(euid)/vessel", isUsers: true) }
        return Choice(path: "/tmp/vessel-\(euid)", isUsers: true)
    }

    /// The default state root, made (0700) and checked when it is a user's.
    public static func resolve() throws(VesselError) -> String {
        let euid = geteuid()
        let xdg = getenv("XDG_RUNTIME_DIR").map { String(cString: $0) }
        // Reading uid_map only matters to root with XDG_RUNTIME_DIR set.
        let inUserNamespace = euid == 0 && xdg != nil && Privileges.inUserNamespace
        let choice = choose(
            xdgRuntimeDir: xdg, user: getenv("USER").map { String(cString: $0) }, euid: euid,
            inUserNamespace: inUserNamespace, runUserDirectoryIsOwn: isOwnDirectory("/run/user/\(euid)"))
        if choice.isUsers { try prepare(choice.path) }
        return choice.path
    }

    /// mkdir 0700, then refuse what is not a directory of ours that only we
    /// can write: a symlink or someone else's directory would hand them our
    /// containers' state.
    static func prepare(_ path: String) throws(VesselError) {
        if mkdir(path, 0o700) != 0 && errno != EEXIST { throw VesselError.system("mkdir state root \(path)") }
        var info = stat()
        try sys("lstat \(path)", lstat(path, &info))
        let problem: String? =
            if info.st_mode & S_IFMT != S_IFDIR {
                "is not a directory"
            } else if info.st_uid != geteuid() {
                "is owned by uid \(info.st_uid), not \(geteuid())"
            } else if info.st_mode & 0o022 != 0 {
                "is writable by others (mode \(String(info.st_mode & 0o7777, radix: 8)))"
            } else {
                nil
            }
        if let problem {
            throw VesselError.setup("state root \(path) \(problem): remove it, or give --root or XDG_RUNTIME_DIR")
        }
        // The XDG base directory spec: a sticky file is not cleaned up with
        // the runtime directory's old files (runc sets it too).
        _ = chmod(path, 0o700 | S_ISVTX)
    }

    static func isOwnDirectory(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR && info.st_uid == geteuid()
    }
}
