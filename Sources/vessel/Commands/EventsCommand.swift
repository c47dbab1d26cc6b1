import Errors
import ArgumentParser
import FoundationEssentials
import Glibc
import OCI
import Runtime

struct EventsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "events", abstract: "Print container stats as JSON, once or every interval.")
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print the stats once and exit.") var stats = false
    @Option(help: "Seconds between stats events (default 5).") var interval: String = "5s"
    @Argument(help: "Container id.") var id: String

    func run() throws {
        try perform(global) {
            let id = try containerID(id)
            let lifecycle = try lifecycle(global)
            let seconds = Double(interval.hasSuffix("s") ? String(interval.dropLast()) : interval)
            guard let seconds, seconds > 0 else { throw VesselError.invalidArgument("--interval \(interval.debugDescription): expected seconds such as 5s") }
            repeat {
                let event: StatsEvent
                do {
                    event = try lifecycle.stats(id)
                } catch let error as VesselError where error.kind == .wrongState && !stats {
                    return  // the stream ends when the container stops
                }
                print(event.runcJSON)
                fflush(nil)  // stdout among all streams: Swift 6 forbids the `stdout` global
                if !stats { usleep(UInt32(seconds * 1_000_000)) }
            } while !stats
        }
    }
}
