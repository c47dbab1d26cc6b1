import Errors
import Glibc

/// --preserve-fds N of create, run and exec: fds 3 to 3+N-1 must be open.
/// As runc, one that is not is an error before anything is made, not a
/// hole in the container's descriptors.
enum PreservedFDs {
    static func check(_ count: Int) throws {
        for index in 0..<max(0, count) {
            let fd = Int32(3 + index)
            var info = stat()
            guard fstat(fd, &info) == 0 else {
                // "preserved-fd N" is runc's phrase, which its tests match on.
                throw VesselError.system("--preserve-fds \(count): preserved-fd \(index) (of \(count)) is fd \(fd)")
            }
        }
    }
}
