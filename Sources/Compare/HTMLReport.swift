// The HTML report: a one-paragraph verdict first, then what stopped each
// escape route in each mode, what the workload learns about the host, the
// costs on log-scale charts, and every measurement. Self-contained: inline
// CSS and SVG, no script, and a Content-Security-Policy that forbids
// loading anything, so the page renders the same offline.
struct HTMLReport {
    var comparison: Comparison

    var page: String {
        let c = comparison
        var body =
            "<header><h1>vessel compare</h1><p class=\"meta\">\(e(c.bundle)): \(c.runs) run(s) per mode; host kernel \(e(c.hostKernel)), "
            + "\(c.hostCPUs) CPUs; VM accelerator \(e(c.vm.accelerator ?? "unknown")); guest kernel \(e(c.vm.probe.kernel)).</p></header>\n"
        body += "<section class=\"verdict\"><h2>Verdict</h2><p>\(e(VerdictText.paragraph(c)))</p></section>\n"
        body += boundary + disclosures + costs + details + rawSteps
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
            <title>vessel compare: \(e(c.bundle))</title>
            <style>\(Self.style)</style></head><body>
            \(body)</body></html>

            """
    }

    static let style = """
        body{font-family:system-ui,sans-serif;margin:2em auto;max-width:72em;padding:0 1em;color:#222;line-height:1.4}
        h1{margin-bottom:.2em}.meta{color:#555;margin-top:0}
        .verdict{background:#f4f6f8;border-left:4px solid #4a7fb0;padding:.2em 1.2em;margin:1em 0 2em}.verdict p{font-size:1.05em}
        table{border-collapse:collapse;margin-bottom:1.5em;width:100%}td,th{border:1px solid #ccc;padding:.35em .6em;text-align:left;vertical-align:top}
        th{background:#eef1f4}.risk,.why{color:#555;font-size:.85em}.why{display:block;margin-top:.2em}
        .host{background:#f8d7da}.guest{background:#fff3cd}.denied{background:#d4edda}.absent{background:#e9ecef}.skipped{background:#fff;font-style:italic}
        .legend span{display:inline-block;padding:.1em .6em;margin-right:.6em;border:1px solid #ccc}
        .charts{display:flex;gap:1.5em;flex-wrap:wrap}figure{margin:0}figcaption{font-weight:600;margin-bottom:.3em}.scale{font-weight:normal;color:#666}
        svg text{font-size:13px;font-family:system-ui,sans-serif}code{font-size:.9em}details{margin-bottom:1.5em}
        """

    var boundary: String {
        var out =
            "<h2 id=\"boundary\">What stopped each escape route</h2>\n<p class=\"legend\"><span class=\"host\">allowed: reached the host kernel</span>"
            + "<span class=\"guest\">allowed: reached only the guest kernel</span><span class=\"denied\">denied, and by what</span>"
            + "<span class=\"absent\">not in that kernel</span></p>\n"
        out += "<table><tr><th>what the workload tried</th><th>linux mode</th><th>VM mode</th></tr>\n"
        for (l, v) in zip(comparison.linux.boundary, comparison.vm.boundary) {
            out += "<tr><td>\(e(l.title))<span class=\"why\">\(e(l.risk))</span></td>\(cell(l))\(cell(v))</tr>\n"
        }
        return out + "</table>\n"
    }

    func cell(_ result: BoundaryResult) -> String {
        let style: String
        switch result.outcome {
        case .allowed: style = result.kernel == "host" ? "host" : "guest"
        case .denied: style = "denied"
        case .absent: style = "absent"
        case .skipped: style = "skipped"
        }
        return "<td class=\"\(style)\">\(e(result.cell))<span class=\"why\">\(e(result.reason))</span></td>"
    }

    var disclosures: String {
        var out = "<h2 id=\"disclosure\">What the workload learns about the host</h2>\n<table><tr><th>fact</th><th>linux mode</th><th>VM mode</th></tr>\n"
        for (l, v) in zip(comparison.linux.disclosures, comparison.vm.disclosures) {
            out += "<tr><td>\(e(l.fact))</td>\(cell(l))\(cell(v))</tr>\n"
        }
        return out + "</table>\n"
    }

    func cell(_ fact: Disclosure) -> String {
        "<td class=\"\(fact.revealsHost ? "host" : "denied")\">\(e(fact.value))<span class=\"why\">\(e(fact.reason))</span></td>"
    }

    var costs: String {
        let l = comparison.linux, v = comparison.vm
        let charts = [
            LogBarChart(
                title: "time to first output (median)", linux: median(l.firstOutputMilliseconds), vm: median(v.firstOutputMilliseconds),
                format: Comparison.milliseconds, tick: Self.timeTick),
            LogBarChart(
                title: "time to exit (median)", linux: median(l.exitMilliseconds), vm: median(v.exitMilliseconds),
                format: Comparison.milliseconds, tick: Self.timeTick),
            LogBarChart(
                title: "host memory per container (PSS)", linux: l.hostMemoryPSSMiB, vm: v.hostMemoryPSSMiB,
                format: Self.memory, tick: Self.memoryTick),
        ]
        return "<h2 id=\"costs\">What it costs</h2>\n<div class=\"charts\">\n" + charts.map(\.svg).joined() + "</div>\n"
    }

    /// 1 ms, 10 ms, 100 ms, 1 s, 10 s, 100 s.
    static func timeTick(_ milliseconds: Double) -> String {
        milliseconds >= 1000 ? "\(Int((milliseconds / 1000).rounded())) s" : "\(Int(milliseconds.rounded())) ms"
    }

    /// 1 MiB, 10 MiB, 100 MiB, 1 GiB.
    static func memoryTick(_ mebibytes: Double) -> String {
        mebibytes >= 1024 ? "\(Int((mebibytes / 1024).rounded())) GiB" : "\(Int(mebibytes.rounded())) MiB"
    }

    /// MiB below 1 GiB, GiB above; small values with a decimal.
    static func memory(_ mebibytes: Double) -> String {
        if mebibytes >= 1024 { return "\(Double(Int(mebibytes / 102.4)) / 10) GiB" }
        return mebibytes < 10 ? "\(Double(Int(mebibytes * 10)) / 10) MiB" : "\(Int(mebibytes.rounded())) MiB"
    }

    var details: String {
        var out = "<h2 id=\"details\">All measurements</h2>\n"
        var section = ""
        for row in comparison.rows {
            if row.section != section {
                if !section.isEmpty { out += "</table>\n" }
                section = row.section
                out += "<h3>\(e(section))</h3>\n<table><tr><th>measure</th><th>linux</th><th>vm</th><th>verdict</th></tr>\n"
            }
            out += "<tr><td>\(e(row.measure))</td><td>\(e(row.linux))</td><td>\(e(row.vm))</td><td>\(e(row.verdict))</td></tr>\n"
        }
        return out + (section.isEmpty ? "" : "</table>\n")
    }

    var rawSteps: String {
        var out = "<details><summary>Every probe step, and the kernel policies (sysctls) each kernel has</summary>\n"
        for mode in [comparison.linux, comparison.vm] {
            out += "<h3>\(e(mode.mode)) mode (\(e(mode.kernelOwner)) kernel \(e(mode.probe.kernel)))</h3>\n"
            if let failure = mode.probeFailure { out += "<p>\(e(failure))</p>\n" }
            out += "<table><tr><th>probe</th><th>step</th><th>system call</th><th>result</th><th>detail</th></tr>\n"
            for step in mode.probe.steps {
                let result = step.code.map { "\(step.result.rawValue) \($0)" } ?? step.result.rawValue
                out += "<tr><td>\(e(step.probe))</td><td>\(e(step.step))</td><td><code>\(e(step.syscall))</code></td><td>\(e(result))</td><td>\(e(step.detail))</td></tr>\n"
            }
            out += "</table>\n<p>" + mode.probe.sysctls.sorted { $0.key < $1.key }.map { "<code>\(e($0.key))=\(e($0.value))</code>" }.joined(separator: " ") + "</p>\n"
        }
        return out + "</details>\n"
    }

    func e(_ text: String) -> String { ComparisonRenderer.escape(text) }
}
