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
    /// Nil while the service has no cgroup: before its first start, between runs, after it ended.
    public var cgroup: CgroupSample?

    public struct Supervision: Sendable {
        public var isUp: Bool
        public var startTimeSeconds: Double?
        public var restarts: [RestartReason: Int]
        /// When the memory guard last restarted the service (Unix time).
        public var anonLimitLastTriggerSeconds: Double?

        public init(isUp: Bool, startTimeSeconds: Double?, restarts: [RestartReason: Int], anonLimitLastTriggerSeconds: Double? = nil) {
            self.isUp = isUp
            self.startTimeSeconds = startTimeSeconds
            self.restarts = restarts
            self.anonLimitLastTriggerSeconds = anonLimitLastTriggerSeconds
        }
    }

    public init(name: String, supervision: Supervision?, anonLimitBytes: UInt64?, cgroup: CgroupSample?) {
        self.name = name
        self.supervision = supervision
        self.anonLimitBytes = anonLimitBytes
        self.cgroup = cgroup
    }

    public init(snapshot: ServiceSnapshot, configuration: ServiceConfiguration?, cgroup: CgroupSample?) {
        self.init(
            name: snapshot.name,
            supervision: Supervision(
                isUp: snapshot.isUp, startTimeSeconds: snapshot.startTimeSeconds, restarts: snapshot.restarts,
                anonLimitLastTriggerSeconds: snapshot.anonLimitLastTriggerSeconds
            ),
            anonLimitBytes: configuration?.memory.anonLimitBytes,
            cgroup: cgroup
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

    public static func families(_ readings: [ServiceReading]) -> [MetricFamily] {
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
        var lastTrigger = MetricFamily(
            "steward_service_anon_limit_last_trigger_timestamp_seconds", .gauge,
            help: "Unix time the memory guard last restarted the service because its anon (+ swap) stayed above anon_limit; absent until it has."
        )
        var memory = MemoryClasses.Field.allCases.map { field in
            MetricFamily(memoryName(field), .gauge, help: field.help + " Absent while the service has no cgroup.")
        }
        var cpu = MetricFamily(
            "steward_service_cpu_seconds_total", .counter,
            help: "CPU time of all processes in the service's cgroup, by mode, since the current run began (each run gets a new cgroup). v2 cpu.stat user_usec/system_usec, v1 cpuacct.stat."
        )
        var pids = MetricFamily(
            "steward_service_pids", .gauge,
            help: "Tasks (processes and threads) in the service's cgroup: pids.current."
        )
        var oomKills = MetricFamily(
            "steward_service_oom_kills_total", .counter,
            help: "Processes the kernel OOM killer killed in the service's cgroup during the current run: oom_kill of v2 memory.events or v1 memory.oom_control."
        )
        var pressure = MetricFamily(
            "steward_service_memory_pressure_seconds_total", .counter,
            help: "Time at least one (kind=some) or all (kind=full) of the service's tasks stalled waiting for memory during the current run: PSI memory.pressure total."
        )

        for reading in readings {
            let service = Label("service", reading.name)
            if let supervision = reading.supervision {
                up.add(supervision.isUp ? 1 : 0, [service])
                if let seconds = supervision.startTimeSeconds { startTime.add(seconds, [service]) }
                for reason in RestartReason.allCases {
                    restarts.add(Double(supervision.restarts[reason] ?? 0), [service, Label("reason", reason.rawValue)])
                }
            }
            if let limit = reading.anonLimitBytes { anonLimit.add(Double(limit), [service]) }
            if let seconds = reading.supervision?.anonLimitLastTriggerSeconds { lastTrigger.add(seconds, [service]) }
            guard let sample = reading.cgroup else { continue }
            if let classes = sample.memory {
                for (index, field) in MemoryClasses.Field.allCases.enumerated() {
                    if let value = classes[field] { memory[index].add(Double(value), [service]) }
                }
            }
            if let user = sample.cpu?.userSeconds { cpu.add(user, [service, Label("mode", "user")]) }
            if let system = sample.cpu?.systemSeconds { cpu.add(system, [service, Label("mode", "system")]) }
            if let count = sample.pids { pids.add(Double(count), [service]) }
            if let kills = sample.oomKills { oomKills.add(Double(kills), [service]) }
            if let psi = sample.memoryPressure {
                pressure.add(psi.some.totalSeconds, [service, Label("kind", "some")])
                if let full = psi.full { pressure.add(full.totalSeconds, [service, Label("kind", "full")]) }
            }
        }
        return [up, startTime, restarts, anonLimit, lastTrigger] + memory + [cpu, pids, oomKills, pressure]
    }
}
