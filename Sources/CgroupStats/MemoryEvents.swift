/// Memory event counters: v2 memory.events / memory.events.local, or v1 memory.oom_control.
/// The two share only `oom_kill`; every accessor is nil when this file or kernel does not report it.
public struct MemoryEvents: Sendable, Equatable {
    /// Every "key value" line, unknown keys included.
    public let fields: FlatKeyedFields

    public init(parsing text: String, file: String) throws(CgroupParseError) {
        fields = try flatKeyed(text, file: file)
    }

    /// v2: times reclaim ran although usage was below memory.low (the protection was breached).
    public var low: UInt64? { fields["low"] }
    /// v2: times usage crossed memory.high and the cgroup was throttled into direct reclaim.
    public var high: UInt64? { fields["high"] }
    /// v2: times usage was about to cross memory.max and direct reclaim ran.
    public var max: UInt64? { fields["max"] }
    /// v2: times the cgroup hit its limit and reclaim failed (an OOM situation, not necessarily a kill).
    public var oom: UInt64? { fields["oom"] }
    /// v1 and v2: processes killed by the OOM killer in this cgroup.
    public var oomKill: UInt64? { fields["oom_kill"] }
    /// v2: times the whole cgroup was killed as a group (memory.oom.group).
    public var oomGroupKill: UInt64? { fields["oom_group_kill"] }
    /// v1: the cgroup is currently stuck at its limit with the OOM killer disabled.
    public var underOOM: Bool? { fields["under_oom"].map { $0 != 0 } }
    /// v1: the OOM killer is disabled for this cgroup (tasks wait instead of being killed).
    public var oomKillDisable: Bool? { fields["oom_kill_disable"].map { $0 != 0 } }
}
