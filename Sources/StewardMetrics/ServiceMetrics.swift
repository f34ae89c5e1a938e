import CgroupFS
import CgroupStats
import StewardConfig
import StewardCore
import StewardEngine

/// What is known of one service at scrape time: the supervisor's view and its cgroup, read now.
public struct ServiceReading: Sendable {
    public var name: String
    /// Nil when only the cgroup was read (`steward inspect --cgroup`): there is no supervisor to ask.
    public var supervision: Supervision?
    /// The memory guard's limit from the configuration.
    public var anonLimitBytes: UInt64?
    /// The kernel task and CPU limits from the configuration.
    public var resources: ResourceLimits
    /// Nil while the service has no cgroup: before its first start, between runs, after it ended.
    public var cgroup: CgroupSample?
    /// CPU, OOM kills and memory pressure since Steward started (of the cgroup alone for inspect --cgroup).
    public var counters: CgroupCounters

    public struct Supervision: Sendable {
        public var state: ServiceState.Phase
        public var isUp: Bool
        public var startTimeSeconds: Double?
        public var restarts: [RestartReason: Int]
        /// When the memory guard last restarted the service (Unix time).
        public var anonLimitLastTriggerSeconds: Double?

        public init(state: ServiceState.Phase, isUp: Bool, startTimeSeconds: Double?, restarts: [RestartReason: Int], anonLimitLastTriggerSeconds: Double? = nil) {
            self.state = state
            self.isUp = isUp
            self.startTimeSeconds = startTimeSeconds
            self.restarts = restarts
            self.anonLimitLastTriggerSeconds = anonLimitLastTriggerSeconds
        }
    }

    /// `counters` defaults to the cgroup's own.
    public init(
        name: String, supervision: Supervision?, anonLimitBytes: UInt64?, resources: ResourceLimits = ResourceLimits(),
        cgroup: CgroupSample?, counters: CgroupCounters? = nil
    ) {
        self.name = name
        self.supervision = supervision
        self.anonLimitBytes = anonLimitBytes
        self.resources = resources
        self.cgroup = cgroup
        self.counters = counters ?? cgroup?.counters ?? .none
    }

    public init(snapshot: ServiceSnapshot, configuration: ServiceConfiguration?, reading: CgroupReader.Reading) {
        self.init(
            name: snapshot.name,
            supervision: Supervision(
                state: snapshot.state.phase, isUp: snapshot.isUp, startTimeSeconds: snapshot.startTimeSeconds,
                restarts: snapshot.restarts, anonLimitLastTriggerSeconds: snapshot.anonLimitLastTriggerSeconds
            ),
            anonLimitBytes: configuration?.memory.anonLimitBytes,
            resources: configuration?.resources ?? ResourceLimits(),
            cgroup: reading.sample,
            counters: reading.counters
        )
    }
}

/// The per-service families. Each family holds every service's samples, as the text formats require.
public enum ServiceMetrics {
    public static func memoryName(_ field: MemoryClasses.Field) -> String {
        "steward_service_memory_\(field.rawValue)_bytes"
    }

    /// For HELP; a switch, so that a new reason cannot go unexplained.
    static func meaning(_ reason: RestartReason) -> String {
        switch reason {
        case .exit: "its main process exited"
        case .signal: "killed by a signal Steward did not send"
        case .anonMemory: "the memory guard"
        case .manual: "asked for"
        case .spawnFailure: "could not be started"
        case .startTimeout: "no READY=1 in time"
        }
    }

    /// For HELP, like `meaning(_:)` for restart reasons.
    static func meaning(_ phase: ServiceState.Phase) -> String {
        switch phase {
        case .idle: "stopped on purpose, or never started"
        case .starting: "being spawned, or waiting for READY=1"
        case .running: "main process up"
        case .stopping: "stop signal sent, waiting for the cgroup to empty"
        case .backoff: "waiting out the restart delay"
        case .exited: "ended successfully, not restarted by its policy"
        case .failed: "gave up: start limit reached, or a failure its policy does not restart"
        }
    }

    public static func families(_ readings: [ServiceReading]) -> [MetricFamily] {
        var state = MetricFamily(
            "steward_service_state", .gauge,
            help: "1 for the state the service is in, 0 for the others: "
                + ServiceState.Phase.allCases.map { "\($0.rawValue) (\(meaning($0)))" }.joined(separator: ", ") + "."
        )
        var up = MetricFamily(
            "steward_service_up", .gauge,
            help: "1 while the service's main process runs (and is ready); 0 while it is starting, stopping, waiting to restart, ended or never started."
        )
        var startTime = MetricFamily(
            "steward_service_start_time_seconds", .gauge,
            help: "Unix time of the service's latest start; absent before the first."
        )
        var restarts = MetricFamily(
            "steward_service_restarts_total", .counter,
            help: "Restarts of the service since Steward started, by reason: "
                + RestartReason.allCases.map { "\($0.rawValue) (\(meaning($0)))" }.joined(separator: ", ") + "."
        )
        var anonLimit = MetricFamily(
            "steward_service_anon_limit_bytes", .gauge,
            help: "The memory guard's limit on anon (+ swap, + shmem if the service opts in): anon_limit in [services.<name>.memory]; absent when not set."
        )
        var pidsMax = MetricFamily(
            "steward_service_pids_max", .gauge,
            help: "The most tasks (processes and threads) the kernel lets the service's cgroup hold: pids_max in [services.<name>]; absent when not set."
        )
        var cpuWeight = MetricFamily(
            "steward_service_cpu_weight", .gauge,
            help: "The service's CPU weight against other cgroups (1 to 10000, 100 by default): cpu_weight in [services.<name>]; absent when not set."
        )
        var cpuMax = MetricFamily(
            "steward_service_cpu_max_cores", .gauge,
            help: "The CPU time the kernel allows the service per period, in CPUs (1.5 = one and a half): cpu_max in [services.<name>]; absent when not set."
        )
        var lastTrigger = MetricFamily(
            "steward_service_anon_limit_last_trigger_timestamp_seconds", .gauge,
            help: "Unix time the memory guard last restarted the service because its anon (+ swap) stayed above anon_limit; absent until it has."
        )
        var memory = MemoryClasses.Field.allCases.map { field in
            MetricFamily(memoryName(field), .gauge, help: field.help + " Absent while the service has no cgroup.")
        }
        var cpu = MetricFamily(
            "steward_service_cpu_seconds_total", .counter,
            help: "CPU time of all processes of the service, by mode, summed over all its runs since Steward started. v2 cpu.stat user_usec/system_usec, v1 cpuacct.stat."
        )
        var pids = MetricFamily(
            "steward_service_pids", .gauge,
            help: "Tasks (processes and threads) in the service's cgroup: pids.current."
        )
        var oomKills = MetricFamily(
            "steward_service_oom_kills_total", .counter,
            help: "Processes of the service the kernel OOM killer killed, over all its runs since Steward started (the main process included: a run's count is kept when its cgroup is removed). oom_kill of v2 memory.events or v1 memory.oom_control."
        )
        var pressure = MetricFamily(
            "steward_service_memory_pressure_seconds_total", .counter,
            help: "Time at least one (kind=some) or all (kind=full) of the service's tasks stalled waiting for memory, over all its runs since Steward started: PSI memory.pressure total."
        )

        for reading in readings {
            let service = Label("service", reading.name)
            if let supervision = reading.supervision {
                for phase in ServiceState.Phase.allCases {
                    state.add(phase == supervision.state ? 1 : 0, [service, Label("state", phase.rawValue)])
                }
                up.add(supervision.isUp ? 1 : 0, [service])
                if let seconds = supervision.startTimeSeconds { startTime.add(seconds, [service]) }
                for reason in RestartReason.allCases {
                    restarts.add(Double(supervision.restarts[reason] ?? 0), [service, Label("reason", reason.rawValue)])
                }
            }
            if let limit = reading.anonLimitBytes { anonLimit.add(Double(limit), [service]) }
            if let limit = reading.resources.pidsMax { pidsMax.add(Double(limit), [service]) }
            if let weight = reading.resources.cpuWeight { cpuWeight.add(Double(weight), [service]) }
            if let percent = reading.resources.cpuMaxPercent { cpuMax.add(percent / 100, [service]) }
            if let seconds = reading.supervision?.anonLimitLastTriggerSeconds { lastTrigger.add(seconds, [service]) }
            let counters = reading.counters
            if let user = counters.cpuUserSeconds { cpu.add(user, [service, Label("mode", "user")]) }
            if let system = counters.cpuSystemSeconds { cpu.add(system, [service, Label("mode", "system")]) }
            if let kills = counters.oomKills { oomKills.add(Double(kills), [service]) }
            if let some = counters.memoryPressureSomeSeconds { pressure.add(some, [service, Label("kind", "some")]) }
            if let full = counters.memoryPressureFullSeconds { pressure.add(full, [service, Label("kind", "full")]) }
            guard let sample = reading.cgroup else { continue }
            if let classes = sample.memory {
                for (index, field) in MemoryClasses.Field.allCases.enumerated() {
                    if let value = classes[field] { memory[index].add(Double(value), [service]) }
                }
            }
            if let count = sample.pids { pids.add(Double(count), [service]) }
        }
        return [state, up, startTime, restarts, anonLimit, lastTrigger, pidsMax, cpuWeight, cpuMax] + memory + [cpu, pids, oomKills, pressure]
    }
}
