import FoundationEssentials

// The report as a terminal table, JSON, or a self-contained HTML page with
// bar charts of the costs (inline SVG: readable without a network).
public enum ComparisonRenderer {
    public static func table(_ comparison: Comparison) -> String {
        let headers = ["measure", "linux", "vm", "verdict"]
        let columns = [\Comparison.Row.measure, \.linux, \.vm]
        let widths = columns.enumerated().map { index, path in
            max(headers[index].count, comparison.rows.map { $0[keyPath: path].count }.max() ?? 0)
        }
        func pad(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(0, width - text.count)) }
        var lines = ["vessel compare \(comparison.bundle): \(comparison.runs) run(s) per mode, host kernel \(comparison.hostKernel), \(comparison.hostCPUs) CPUs, VM accelerator \(comparison.vm.accelerator ?? "unknown")"]
        var section = ""
        for row in comparison.rows {
            if row.section != section {
                section = row.section
                lines.append("")
                lines.append(section.uppercased())
                lines.append((0..<3).map { pad(headers[$0], widths[$0]) }.joined(separator: "  ") + "  " + headers[3])
            }
            lines.append(columns.enumerated().map { pad(row[keyPath: $1], widths[$0]) }.joined(separator: "  ") + "  " + row.verdict)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public static func json(_ comparison: Comparison) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(comparison), as: UTF8.self) + "\n"
    }

    public static func html(_ comparison: Comparison) -> String {
        var body = "<h1>vessel compare</h1>\n<p>\(escape(comparison.bundle)): \(comparison.runs) run(s) per mode; host kernel \(escape(comparison.hostKernel)), \(comparison.hostCPUs) CPUs; VM accelerator \(escape(comparison.vm.accelerator ?? "unknown")).</p>\n"
        body += "<div class=\"charts\">\n"
        body += chart("time to first output (ms, median)", median(comparison.linux.firstOutputMilliseconds), median(comparison.vm.firstOutputMilliseconds))
        body += chart("time to exit (ms, median)", median(comparison.linux.exitMilliseconds), median(comparison.vm.exitMilliseconds))
        body += chart("host memory (MiB)", comparison.linux.hostMemoryMiB, comparison.vm.hostMemoryMiB)
        body += "</div>\n"
        var section = ""
        for row in comparison.rows {
            if row.section != section {
                if !section.isEmpty { body += "</table>\n" }
                section = row.section
                body += "<h2>\(escape(section))</h2>\n<table>\n<tr><th>measure</th><th>linux</th><th>vm</th><th>verdict</th></tr>\n"
            }
            body += "<tr><td>\(escape(row.measure))</td><td>\(escape(row.linux))</td><td>\(escape(row.vm))</td><td>\(escape(row.verdict))</td></tr>\n"
        }
        body += "</table>\n"
        return """
        <!DOCTYPE html>
        <html><head><meta charset="utf-8"><title>vessel compare</title>
        <style>body{font-family:sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse;margin-bottom:1em}
        td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}.charts{display:flex;gap:2em;flex-wrap:wrap}
        svg text{font-size:12px}</style></head><body>
        \(body)</body></html>

        """
    }

    /// Two horizontal bars, linux and vm, scaled to the larger.
    static func chart(_ title: String, _ linux: Double, _ vm: Double) -> String {
        let top = max(linux, vm, 0.001)
        func bar(_ y: Int, _ label: String, _ value: Double, _ colour: String) -> String {
            let width = Int(240 * value / top)
            return "<text x=\"0\" y=\"\(y + 14)\">\(label)</text><rect x=\"50\" y=\"\(y)\" width=\"\(max(width, 1))\" height=\"20\" fill=\"\(colour)\"/>"
                + "<text x=\"\(56 + width)\" y=\"\(y + 14)\">\(Double(Int(value * 10)) / 10)</text>"
        }
        return "<figure><figcaption>\(escape(title))</figcaption><svg width=\"380\" height=\"60\" role=\"img\">"
            + bar(5, "linux", linux, "#4a7fb0") + bar(33, "vm", vm, "#c0504d") + "</svg></figure>\n"
    }

    static func escape(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
