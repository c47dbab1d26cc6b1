import FoundationEssentials
import OSKit

/// `create` -> supervisor (in the plan): restore the guest from the
/// template for `key` in `directory`, building it first if there is none.
public struct TemplatePlan: Codable, Sendable {
    public var directory: String
    public var key: TemplateKey

    public init(directory: String, key: TemplateKey) {
        self.directory = directory
        self.key = key
    }
}

/// Supervisor -> `create` (<state dir>/boot.json): how the guest came up,
/// for `--log` and `state`'s annotation org.vessel.vm.boot.
public struct BootRecord: Codable, Sendable, Equatable {
    /// The template's hash when the guest was restored from one.
    public var template: String?
    /// Whether this create built the template.
    public var built: Bool
    /// Why the guest booted cold instead, when a template was planned.
    public var reason: String?
    /// From the supervisor's start to a guest that took the refresh.
    public var seconds: Double

    public init(template: String?, built: Bool, reason: String?, seconds: Double) {
        self.template = template
        self.built = built
        self.reason = reason
        self.seconds = seconds
    }

    /// The annotation's value: "template <hash>" or "cold".
    public var mode: String { template.map { "template " + $0 } ?? "cold" }

    public var logLine: String {
        let time = String(Int((seconds * 1000).rounded())) + " ms"
        if let template {
            return "vm: restored from template \(template)" + (built ? " (built by this create)" : "") + " in \(time)"
        }
        return "vm: cold boot in \(time)" + (reason.map { ": template not used: " + $0 } ?? "")
    }

    public static func path(in directory: String) -> String { directory + "/boot.json" }

    public func save(in directory: String) {
        if let data = try? JSONEncoder().encode(self) { try? FileIO.writeAtomically(Self.path(in: directory), data) }
    }

    public static func load(from directory: String) -> BootRecord? {
        (try? FileIO.readData(path(in: directory))).flatMap { try? JSONDecoder().decode(BootRecord.self, from: $0) }
    }
}
