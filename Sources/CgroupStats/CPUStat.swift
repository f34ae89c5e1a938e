/// CPU time of a cgroup's subtree: v2 cpu.stat, or v1 cpuacct.stat (+ cpuacct.usage).
/// Times are converted to seconds; each is nil when the files read did not report it.
public struct CPUStat: Sendable, Equatable {
    public let version: CgroupVersion
    /// Every "key value" line as written: microseconds in v2 cpu.stat, USER_HZ ticks in v1 cpuacct.stat.
    public let fields: FlatKeyedFields
    /// Total CPU time: v2 usage_usec, v1 cpuacct.usage (nanoseconds; nil if the caller did not read it).
    public let usageSeconds: Double?
    /// CPU time in user mode: v2 user_usec, v1 cpuacct.stat user.
    public let userSeconds: Double?
    /// CPU time in kernel mode: v2 system_usec, v1 cpuacct.stat system.
    public let systemSeconds: Double?

    /// v2 cpu.stat.
    public init(parsing text: String, file: String) throws(CgroupParseError) {
        let fields = try flatKeyed(text, file: file)
        self.version = .v2
        self.fields = fields
        usageSeconds = fields["usage_usec"].map(Self.seconds(microseconds:))
        userSeconds = fields["user_usec"].map(Self.seconds(microseconds:))
        systemSeconds = fields["system_usec"].map(Self.seconds(microseconds:))
    }

    /// v1 cpuacct.stat ("user N\nsystem N" in USER_HZ ticks) and, if read, cpuacct.usage in nanoseconds
    /// (parse it with `SingleValue.integer`). `ticksPerSecond` is sysconf(_SC_CLK_TCK), asked by the caller
    /// so that this module stays pure. The tick counts are coarse (1/USER_HZ s); usage is exact.
    public init(parsingCpuacctStat text: String, file: String, usageNanoseconds: UInt64?, ticksPerSecond: UInt64) throws(CgroupParseError) {
        precondition(ticksPerSecond > 0, "ticksPerSecond must be sysconf(_SC_CLK_TCK), which is positive")
        let fields = try flatKeyed(text, file: file)
        let seconds = { (ticks: UInt64) in Double(ticks) / Double(ticksPerSecond) }
        self.version = .v1
        self.fields = fields
        usageSeconds = usageNanoseconds.map { Double($0) / 1e9 }
        userSeconds = fields["user"].map(seconds)
        systemSeconds = fields["system"].map(seconds)
    }

    /// v2 with the cpu controller enabled: enforcement periods that have elapsed.
    public var periods: UInt64? { fields["nr_periods"] }
    /// v2 with the cpu controller enabled: periods in which the cgroup was throttled by cpu.max.
    public var throttledPeriods: UInt64? { fields["nr_throttled"] }
    /// v2 with the cpu controller enabled: total time the cgroup was throttled by cpu.max.
    public var throttledSeconds: Double? { fields["throttled_usec"].map(Self.seconds(microseconds:)) }

    private static func seconds(microseconds: UInt64) -> Double { Double(microseconds) / 1e6 }
}
