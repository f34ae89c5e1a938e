import CgroupStats
import Testing
@testable import StewardCore

@Suite struct CounterCheckpointTests {
    static let sample = CounterCheckpoint(services: [
        "api": .init(
            restarts: [.exit: 3, .manual: 1],
            reported: CgroupCounters(cpuUserSeconds: 12.5, cpuSystemSeconds: 0.25, oomKills: 2, memoryPressureSomeSeconds: 0.001234),
            endedRuns: CgroupCounters(cpuUserSeconds: 10, cpuSystemSeconds: 0.125, oomKills: 2),
            liveRunBaseline: CgroupCounters(cpuUserSeconds: 0.5)
        ),
        // Between runs: no live run; a host without PSI: no pressure.
        "worker": .init(restarts: [:], reported: CgroupCounters(cpuUserSeconds: 1), endedRuns: CgroupCounters(cpuUserSeconds: 1)),
        // A live run whose cgroup counted nothing yet is not "no live run".
        "fresh": .init(liveRunBaseline: CgroupCounters.none),
    ])

    @Test func textIsStableAndReadsBack() throws {
        let text = Self.sample.text
        #expect(text == """
            steward-counters 1
            service api
            restarts exit=3 manual=1
            reported cpu_user_seconds=12.5 cpu_system_seconds=0.25 oom_kills=2 memory_pressure_some_seconds=0.001234
            ended cpu_user_seconds=10.0 cpu_system_seconds=0.125 oom_kills=2
            live_baseline cpu_user_seconds=0.5
            service fresh
            restarts
            reported
            ended
            live_baseline
            service worker
            restarts
            reported cpu_user_seconds=1.0
            ended cpu_user_seconds=1.0

            """)
        #expect(try CounterCheckpoint(parsing: text, file: "c") == Self.sample)
        #expect(try CounterCheckpoint(parsing: "steward-counters 1\n", file: "c") == CounterCheckpoint())
    }

    /// Anything but what `text` writes is refused with its line, so a damaged or foreign file is
    /// never half-used.
    @Test(arguments: [
        ("", nil, "truncated"),
        ("steward-counters 1", nil, "truncated"),
        ("steward-counters 1\nservice api\nrestarts exit=3", nil, "truncated"),
        ("steward-counters 2\n", 1, "expected 'steward-counters 1'"),
        ("# steward-counters 1\n", 1, "expected 'steward-counters 1'"),
        ("steward-counters 1\nrestarts exit=1\n", 2, "before any 'service' line"),
        ("steward-counters 1\nservice api\nservice api\n", 3, "repeated service 'api'"),
        ("steward-counters 1\nservice api\nservice b\nservice api\n", 4, "repeated service 'api'"),
        ("steward-counters 1\nservice \n", 2, "empty or repeated service"),
        ("steward-counters 1\nservice api\nended\nended\n", 4, "repeated 'ended' line"),
        ("steward-counters 1\nservice api\nrestarts exit=1 exit=2\n", 3, "unknown or repeated restart reason 'exit'"),
        ("steward-counters 1\nservice api\nrestarts boredom=1\n", 3, "unknown or repeated restart reason 'boredom'"),
        ("steward-counters 1\nservice api\nrestarts exit=-1\n", 3, "restarts exit: '-1' is not a count"),
        ("steward-counters 1\nservice api\nrestarts exit=\n", 3, "restarts exit: '' is not a count"),
        ("steward-counters 1\nservice api\nreported cpu_user_seconds=nan\n", 3, "'nan' is not a non-negative number"),
        ("steward-counters 1\nservice api\nreported cpu_user_seconds=inf\n", 3, "'inf' is not a non-negative number"),
        ("steward-counters 1\nservice api\nreported cpu_user_seconds=-0.5\n", 3, "'-0.5' is not a non-negative number"),
        ("steward-counters 1\nservice api\nreported cpu_user_seconds=+1\n", 3, "'+1' is not a non-negative number"),
        ("steward-counters 1\nservice api\nreported cpu_user_seconds\n", 3, "expected KEY=VALUE"),
        ("steward-counters 1\nservice api\nreported  cpu_user_seconds=1\n", 3, "expected KEY=VALUE, got ''"),
        ("steward-counters 1\nservice api\nended heat=1\n", 3, "unknown or repeated counter 'heat'"),
        ("steward-counters 1\nservice api\nended oom_kills=1 oom_kills=1\n", 3, "unknown or repeated counter 'oom_kills'"),
        ("steward-counters 1\nservice api\nended oom_kills=1.5\n", 3, "oom_kills: '1.5' is not a non-negative count"),
        ("steward-counters 1\nservice api\nbogus x=1\n", 3, "expected 'service NAME' or a section"),
        ("steward-counters 1\nservice api\n\n", 3, "expected 'service NAME' or a section"),
    ] as [(String, Int?, String)])
    func malformed(text: String, line: Int?, says: String) {
        #expect {
            _ = try CounterCheckpoint(parsing: text, file: "/run/steward/x.counters")
        } throws: { error in
            guard let error = error as? CgroupParseError else { return false }
            return error.file == "/run/steward/x.counters" && error.line == line && error.message.contains(says)
        }
    }

    /// Where a new Steward's counters start, from what the old one recorded and what the cgroup of
    /// its live run (if still there) counted.
    @Test(arguments: [
        // The live run's cgroup is there: ended + what it counted since it began (exact), above reported.
        (CounterCheckpoint.Entry(reported: .init(cpuUserSeconds: 11), endedRuns: .init(cpuUserSeconds: 10), liveRunBaseline: .init(cpuUserSeconds: 2)),
         CgroupCounters(cpuUserSeconds: 5), CgroupCounters(cpuUserSeconds: 13)),
        // It is gone (systemd removed it): what was reported, the most anyone saw.
        (CounterCheckpoint.Entry(reported: .init(cpuUserSeconds: 11), endedRuns: .init(cpuUserSeconds: 10), liveRunBaseline: .init(cpuUserSeconds: 2)),
         nil, CgroupCounters(cpuUserSeconds: 11)),
        // No run was live at the checkpoint, yet a cgroup is there (its removal failed after its
        // counters joined the ended runs'): not added again.
        (CounterCheckpoint.Entry(reported: .init(cpuUserSeconds: 10), endedRuns: .init(cpuUserSeconds: 10)),
         CgroupCounters(cpuUserSeconds: 0.5, oomKills: 1), CgroupCounters(cpuUserSeconds: 10)),
        // A damaged but well-formed count cannot overflow the sum (the supervisor must not trap).
        (CounterCheckpoint.Entry(endedRuns: .init(oomKills: .max), liveRunBaseline: CgroupCounters.none),
         CgroupCounters(oomKills: 3), CgroupCounters(oomKills: .max)),
        // Never below reported, field by field (a cgroup made anew: its counters restarted lower).
        (CounterCheckpoint.Entry(reported: .init(cpuUserSeconds: 20, cpuSystemSeconds: 1), endedRuns: .init(cpuUserSeconds: 10), liveRunBaseline: .init(cpuUserSeconds: 9)),
         CgroupCounters(cpuUserSeconds: 1, cpuSystemSeconds: 3), CgroupCounters(cpuUserSeconds: 20, cpuSystemSeconds: 3)),
    ] as [(CounterCheckpoint.Entry, CgroupCounters?, CgroupCounters)])
    func resumedCounters(entry: CounterCheckpoint.Entry, leftover: CgroupCounters?, expected: CgroupCounters) {
        #expect(entry.resumedCounters(leftover: leftover) == expected)
    }
}
