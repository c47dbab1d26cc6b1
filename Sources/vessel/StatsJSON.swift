import Runtime

// runc's stats event as `runc events` prints it: its key order, and Go's
// omitempty where runc's types have it (a zero or empty field left out).
extension StatsEvent {
    var runcJSON: String {
        GoStyleJSON.object([("type", GoStyleJSON.value("stats")), ("id", GoStyleJSON.value(id)), ("data", data.runcJSON)])
    }
}

extension StatsData {
    var runcJSON: String {
        typealias J = GoStyleJSON
        func omitEmpty(_ number: UInt64) -> String? { number == 0 ? nil : "\(number)" }
        func entry(_ memory: MemoryEntry) -> String {
            J.object([
                ("limit", "\(memory.limit)"), ("usage", omitEmpty(memory.usage)), ("max", omitEmpty(memory.max)),
                ("failcnt", "\(memory.failcnt)"),
            ])
        }
        func io(_ entries: [IOEntry]) -> String? {
            entries.isEmpty
                ? nil
                : "["
                    + entries.map { entry in
                        J.object([
                            ("major", omitEmpty(entry.major)), ("minor", omitEmpty(entry.minor)),
                            ("op", entry.op.isEmpty ? nil : J.value(entry.op)), ("value", omitEmpty(entry.value)),
                        ])
                    }.joined(separator: ",") + "]"
        }
        let cpuJSON = J.object([
            ("usage", J.object([("total", omitEmpty(cpu.total)), ("kernel", "\(cpu.kernel)"), ("user", "\(cpu.user)")])),
            (
                "throttling",
                J.object([
                    ("periods", omitEmpty(cpu.periods)), ("throttledPeriods", omitEmpty(cpu.throttledPeriods)),
                    ("throttledTime", omitEmpty(cpu.throttledTime)),
                ])
            ),
        ])
        let cpusetJSON = J.object(
            [
                "cpu_exclusive", "mem_hardwall", "mem_exclusive", "memory_migrate", "memory_spread_page",
                "memory_spread_slab", "memory_pressure", "sched_load_balance", "sched_relax_domain_level",
            ].map { ($0, "0") })
        let raw = memory.raw.sorted { $0.key < $1.key }
        let memoryJSON = J.object([
            ("cache", omitEmpty(memory.cache)), ("usage", entry(memory.usage)), ("swap", entry(memory.swap)),
            ("kernel", entry(memory.kernel)), ("kernelTCP", entry(memory.kernelTCP)),
            ("raw", raw.isEmpty ? nil : J.object(raw.map { ($0.key, "\($0.value)") })),
        ])
        let hugetlbJSON = J.object(
            hugetlb.sorted { $0.key < $1.key }.map { name, pages in
                (name, J.object([("usage", omitEmpty(pages.usage)), ("max", omitEmpty(pages.max)), ("failcnt", "\(pages.failcnt)")]))
            })
        return J.object([
            ("cpu", cpuJSON), ("cpuset", cpusetJSON), ("memory", memoryJSON),
            ("pids", J.object([("current", omitEmpty(pids.current)), ("limit", omitEmpty(pids.limit))])),
            ("blkio", J.object([("ioServiceBytesRecursive", io(ioBytes)), ("ioServicedRecursive", io(ioOperations))])),
            ("hugetlb", hugetlbJSON), ("intel_rdt", "{}"), ("network_interfaces", "null"),
        ])
    }
}
