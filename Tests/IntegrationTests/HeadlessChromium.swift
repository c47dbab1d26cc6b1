import Foundation
import XCTest

// Renders a local HTML file in Debian's chromium, headless, and reports what
// a reader would see and what the page did: the screenshot, the page's
// console messages (chromium logs them to stderr as "CONSOLE" lines with
// --enable-logging=stderr), and the network requests the page made (from
// chromium's net log: requests whose network isolation key is the file://
// page, as opposed to chromium's own background requests). A proxy that
// refuses everything makes sure no request leaves the machine either way.
struct HeadlessChromium {
    struct Rendering {
        var screenshot: String
        var consoleMessages: [String]
        var pageRequests: [String]
    }

    let binary: String
    let directory: String

    /// Skips (with the reason) where chromium is not installed.
    init(directory: String) throws {
        guard let found = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first(where: FileManager.default.isExecutableFile) else {
            throw XCTSkip("no chromium: scripts/install-deps.sh installs Debian's chromium")
        }
        binary = found
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    func render(_ page: String, name: String, height: Int = 2400) throws -> Rendering {
        let screenshot = directory + "/\(name).png", netLog = directory + "/\(name)-net.json"
        let outcome = try Harness.execute(
            "/usr/bin/timeout",
            [
                "120", binary, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1280,\(height)",
                "--user-data-dir=\(directory)/profile", "--proxy-server=127.0.0.1:9", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--enable-logging=stderr", "--v=0",
                "--log-net-log=\(netLog)", "--screenshot=\(screenshot)", "file://" + page,
            ])
        guard outcome.code == 0, FileManager.default.fileExists(atPath: screenshot) else {
            throw XCTSkip("chromium could not render here (status \(outcome.code)): \(outcome.stderr.suffix(300))")
        }
        let console = outcome.stderr.split(separator: "\n").filter { $0.contains(":CONSOLE") }.map(String.init)
        return Rendering(screenshot: screenshot, consoleMessages: console, pageRequests: try Self.pageRequests(netLog))
    }

    /// URLs other than file: and data: that the page itself asked for.
    static func pageRequests(_ netLog: String) throws -> [String] {
        let data = try Data(contentsOf: URL(fileURLWithPath: netLog))
        let log = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any], "chromium's net log is not JSON")
        var urls: Set<String> = []
        for event in log["events"] as? [[String: Any]] ?? [] {
            guard let params = event["params"] as? [String: Any], let url = params["url"] as? String,
                !url.hasPrefix("file:"), !url.hasPrefix("data:")
            else { continue }
            let key = (params["network_isolation_key"] as? String ?? "") + (params["site_for_cookies"] as? String ?? "")
            if key.contains("file://") { urls.insert(url) }
        }
        return urls.sorted()
    }

    /// A PNG's width and height, from its IHDR chunk.
    static func pngSize(_ path: String) -> (width: Int, height: Int)? {
        guard let data = try? Data(contentsOf: URL(fileURLWithPath: path)), data.count > 24,
            data.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        else { return nil }
        let bytes = [UInt8](data[16..<24])
        func number(_ slice: ArraySlice<UInt8>) -> Int { slice.reduce(0) { $0 << 8 | Int($1) } }
        return (number(bytes[0..<4]), number(bytes[4..<8]))
    }
}
