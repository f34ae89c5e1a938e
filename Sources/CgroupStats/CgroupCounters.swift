/// The monotonic counters of a cgroup: what a service has consumed or suffered, as opposed to what it
/// holds now. A run's cgroup is removed when the run ends, so the engine adds each run's final
/// counters up and the metrics add the live run's on top: counters then stay cumulative across restarts.
///
/// nil means this host does not report the value (no PSI, no `oom_kill` key), never 0.
public struct CgroupCounters: Sendable, Equatable {
    public var cpuUserSeconds: Double?
    public var cpuSystemSeconds: Double?
    public var oomKills: UInt64?
    public var memoryPressureSomeSeconds: Double?
    public var memoryPressureFullSeconds: Double?

    public init(
        cpuUserSeconds: Double? = nil, cpuSystemSeconds: Double? = nil, oomKills: UInt64? = nil,
        memoryPressureSomeSeconds: Double? = nil, memoryPressureFullSeconds: Double? = nil
    ) {
        self.cpuUserSeconds = cpuUserSeconds
        self.cpuSystemSeconds = cpuSystemSeconds
        self.oomKills = oomKills
        self.memoryPressureSomeSeconds = memoryPressureSomeSeconds
        self.memoryPressureFullSeconds = memoryPressureFullSeconds
    }

    /// Nothing counted yet: every value absent.
    public static let none = CgroupCounters()

    /// What accrued since `earlier`, field by field: a value absent on either side is absent, and
    /// a counter that went down (it cannot, short of a new cgroup) counts from 0.
    public func since(_ earlier: CgroupCounters) -> CgroupCounters {
        func delta<T: Comparable & AdditiveArithmetic>(_ now: T?, _ then: T?) -> T? {
            guard let now else { return nil }
            guard let then else { return now }
            return now >= then ? now - then : .zero
        }
        return CgroupCounters(
            cpuUserSeconds: delta(cpuUserSeconds, earlier.cpuUserSeconds),
            cpuSystemSeconds: delta(cpuSystemSeconds, earlier.cpuSystemSeconds),
            oomKills: delta(oomKills, earlier.oomKills),
            memoryPressureSomeSeconds: delta(memoryPressureSomeSeconds, earlier.memoryPressureSomeSeconds),
            memoryPressureFullSeconds: delta(memoryPressureFullSeconds, earlier.memoryPressureFullSeconds)
        )
    }

    /// Sums field by field; a value absent on one side keeps the other side's. Counts saturate at
    /// UInt64.max rather than trap: a checkpoint file may hold any value.
    public static func + (lhs: CgroupCounters, rhs: CgroupCounters) -> CgroupCounters {
        lhs.merged(with: rhs, +) { a, b in
            let (sum, overflow) = a.addingReportingOverflow(b)
            return overflow ? .max : sum
        }
    }

    /// The larger value of each field; a value absent on one side keeps the other side's.
    public func fieldwiseMax(_ other: CgroupCounters) -> CgroupCounters {
        merged(with: other, max, max)
    }

    private func merged(with other: CgroupCounters, _ seconds: (Double, Double) -> Double, _ count: (UInt64, UInt64) -> UInt64) -> CgroupCounters {
        func merge<T>(_ a: T?, _ b: T?, _ combine: (T, T) -> T) -> T? {
            guard let a else { return b }
            guard let b else { return a }
            return combine(a, b)
        }
        return CgroupCounters(
            cpuUserSeconds: merge(cpuUserSeconds, other.cpuUserSeconds, seconds),
            cpuSystemSeconds: merge(cpuSystemSeconds, other.cpuSystemSeconds, seconds),
            oomKills: merge(oomKills, other.oomKills, count),
            memoryPressureSomeSeconds: merge(memoryPressureSomeSeconds, other.memoryPressureSomeSeconds, seconds),
            memoryPressureFullSeconds: merge(memoryPressureFullSeconds, other.memoryPressureFullSeconds, seconds)
        )
    }
}
