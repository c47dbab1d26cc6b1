import XCTest

/// Where vessel and runc differ, by scenario name. A reason starting with
/// `GAP:` is a difference still to be closed in vessel (what runc does, then
/// what vessel does); delete the entry once it is, and the scenario becomes
/// strict again. Any other reason is a deliberate difference, where vessel
/// refuses what runc does unsafely; those are also in README.md's
/// "Differences from runc". `vessel` holds vessel's transcript lines where
/// they differ from runc's, so the scenario asserts vessel's documented
/// behaviour rather than skipping it.
enum DifferentialKnownDifferences {
    struct Entry {
        let reason: String
        let vessel: [String]
    }

    static let table: [String: Entry] = [:]
}
