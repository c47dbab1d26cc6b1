import FoundationEssentials

// The report as a terminal table, JSON (every fact and probe result), or a
// self-contained HTML page (HTMLReport).
public enum ComparisonRenderer {
    public static func table(_ comparison: Comparison) -> String {
        let headers = ["measure", "linux", "vm", "verdict"]
        let columns = [\Comparison.Row.measure, \.linux, \.vm]
        let widths = columns.enumerated().map { index, path in
            max(headers[index].count, comparison.rows.map { $0[keyPath: path].count }.max() ?? 0)
        }
        func pad(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(0, width - text.count)) }
        var lines = [
            "vessel compare \(comparison.bundle): \(comparison.runs) run(s) per mode, host kernel \(comparison.hostKernel), \(comparison.hostCPUs) CPUs, VM accelerator \(comparison.vm.accelerator ?? "unknown")"
        ]
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

    public static func html(_ comparison: Comparison) -> String { HTMLReport(comparison: comparison).page }

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
