import OSKit
import Errors
import Glibc
import OCI

// process.rlimits through setrlimit; a refusal names the rlimit and the host's hard limit.
enum Rlimits {
    static func apply(_ limits: [Rlimit]) throws {
        for limit in limits {
            guard let resource = SpecValidator.rlimitNames[limit.type] else { continue }
            var value = rlimit(rlim_cur: rlim_t(limit.soft), rlim_max: rlim_t(limit.hard))
            if setrlimit(__rlimit_resource_t(UInt32(resource)), &value) != 0 {
                let err = VesselError.system("setrlimit").reason
                var current = rlimit()
                getrlimit(__rlimit_resource_t(UInt32(resource)), &current)
                throw VesselError.setup(
                    "config.json: process.rlimits: cannot set \(limit.type) to soft \(limit.soft), hard \(limit.hard) (the host's hard limit is \(current.rlim_max)): \(err)")
            }
        }
    }
}
