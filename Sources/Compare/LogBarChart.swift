import Glibc

// Two horizontal bars (linux, vm) on a logarithmic axis, as inline SVG: a
// 12 ms bar and a 3 s bar are both readable, where a linear axis leaves the
// first one a pixel wide. The VM bar carries the ratio to the linux bar.
struct LogBarChart {
    var title: String
    var linux: Double
    var vm: Double
    /// Formats a value in the chart's unit ("12 ms", "3.1 s").
    var format: (Double) -> String
    /// Formats a power of ten on the axis ("10 ms", "1 s").
    var tick: (Double) -> String

    static let width = 560.0
    static let left = 48.0
    static let plotWidth = 430.0

    /// Whole decades around both values: 10^floor(log lo) ... 10^ceil(log hi).
    var axis: (low: Double, high: Double) {
        let positive = [linux, vm].filter { $0 > 0 }
        let smallest = positive.min() ?? 1, largest = positive.max() ?? 1
        let low = pow(10, floor(log10(smallest)))
        var high = pow(10, ceil(log10(largest)))
        if high <= low { high = low * 10 }
        return (low, high)
    }

    func x(_ value: Double) -> Double {
        let (low, high) = axis
        let clamped = min(max(value, low), high)
        return Self.left + (log10(clamped) - log10(low)) / (log10(high) - log10(low)) * Self.plotWidth
    }

    var svg: String {
        let (low, high) = axis
        var parts: [String] = []
        var tick = low
        while tick <= high * 1.0001 {
            let position = x(tick)
            parts.append(line(position, 4, position, 66, "#ddd"))
            parts.append(text(position, 80, self.tick(tick), anchor: "middle", colour: "#666"))
            tick *= 10
        }
        parts.append(bar(y: 8, label: "linux", value: linux, colour: "#4a7fb0", note: nil))
        parts.append(bar(y: 38, label: "vm", value: vm, colour: "#c0504d", note: linux > 0 ? Comparison.ratio(vm, linux) + " linux" : nil))
        let caption = ComparisonRenderer.escape(title) + " <span class=\"scale\">(log scale)</span>"
        return
            "<figure><figcaption>\(caption)</figcaption><svg width=\"\(Int(Self.width))\" height=\"86\" viewBox=\"0 0 \(Int(Self.width)) 86\" role=\"img\" aria-label=\"\(ComparisonRenderer.escape(title))\">"
            + parts.joined() + "</svg></figure>\n"
    }

    /// A bar with its value after it and, where there is room, the ratio inside.
    func bar(y: Double, label: String, value: Double, colour: String, note: String?) -> String {
        let end = max(x(value), Self.left + 2)
        var out = text(0, y + 15, label, anchor: "start", colour: "#222")
        out += "<rect x=\"\(Int(Self.left))\" y=\"\(Int(y))\" width=\"\(Int(end - Self.left))\" height=\"22\" fill=\"\(colour)\"/>"
        let valueText = format(value)
        if let note, end - Self.left > 90 {
            out += text(end - 6, y + 15, note, anchor: "end", colour: "#fff", bold: true)
            out += text(end + 6, y + 15, valueText, anchor: "start", colour: "#222")
        } else {
            out += text(end + 6, y + 15, valueText + (note.map { " (\($0))" } ?? ""), anchor: "start", colour: "#222", bold: note != nil)
        }
        return out
    }

    func text(_ x: Double, _ y: Double, _ content: String, anchor: String, colour: String, bold: Bool = false) -> String {
        "<text x=\"\(Int(x))\" y=\"\(Int(y))\" text-anchor=\"\(anchor)\" fill=\"\(colour)\"\(bold ? " font-weight=\"bold\"" : "")>\(ComparisonRenderer.escape(content))</text>"
    }

    func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, _ colour: String) -> String {
        "<line x1=\"\(Int(x1))\" y1=\"\(Int(y1))\" x2=\"\(Int(x2))\" y2=\"\(Int(y2))\" stroke=\"\(colour)\"/>"
    }
}
