import CgroupStats
import StewardCore
import StewardEngine

/// One service as `steward ctl status --json`, `GET /v1/services` and the status page show it. The
/// JSON keys are the stable schema (docs/control-api.md): keys are only ever added, and a value that
/// is not known (no cgroup, no limit) is null, never 0.
public struct ServiceStatus: Codable, Sendable, Equatable {
    public var name: String
    /// running, starting, backoff, stopping, idle, exited or failed (`ServiceState.Phase`).
    public var state: String
    /// What a person needs next to the state: why it failed, what the backoff follows, how it exited.
    public var detail: String?
    public var pid: Int32?
    /// Since the main process started (running, starting, stopping).
    public var uptimeSeconds: Double?
    /// Until the next start (backoff).
    public var backoffRemainingSeconds: Double?
    /// Every restart reason, zeros included.
    public var restarts: [String: Int]
    public var lastExit: Exit?
    /// Nil while the service has no cgroup.
    public var memory: Memory?
    /// The memory guard's limit.
    public var anonLimitBytes: UInt64?
    /// The last STATUS= of a `ready = "notify"` service.
    public var statusText: String?

    /// One of the two is null.
    public struct Exit: Codable, Sendable, Equatable {
        /// The exit code, or nil when a signal ended it.
        public var code: Int32?
        public var signal: Int32?

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(code, forKey: .code)
            try container.encode(signal, forKey: .signal)
        }
    }

    /// The service's memory by class (memory.stat), in bytes.
    public struct Memory: Codable, Sendable, Equatable {
        public var anonBytes: UInt64
        public var swapBytes: UInt64?
        public var shmemBytes: UInt64
        public var activeFileBytes: UInt64
        public var inactiveFileBytes: UInt64
        public var kernelBytes: UInt64?
        /// What the kernel charges the cgroup (memory.current / usage_in_bytes), page cache included.
        public var usageBytes: UInt64

        enum CodingKeys: String, CodingKey {
            case anonBytes = "anon_bytes", swapBytes = "swap_bytes", shmemBytes = "shmem_bytes"
            case activeFileBytes = "active_file_bytes", inactiveFileBytes = "inactive_file_bytes"
            case kernelBytes = "kernel_bytes", usageBytes = "usage_bytes"
        }
    }

    enum CodingKeys: String, CodingKey {
        case name, state, detail, pid, restarts, memory
        case uptimeSeconds = "uptime_seconds", backoffRemainingSeconds = "backoff_remaining_seconds"
        case lastExit = "last_exit", anonLimitBytes = "anon_limit_bytes", statusText = "status_text"
    }

    // Nil values are written as null (the synthesized encoding would leave the key out).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(state, forKey: .state)
        try container.encode(detail, forKey: .detail)
        try container.encode(pid, forKey: .pid)
        try container.encode(uptimeSeconds, forKey: .uptimeSeconds)
        try container.encode(backoffRemainingSeconds, forKey: .backoffRemainingSeconds)
        try container.encode(restarts, forKey: .restarts)
        try container.encode(lastExit, forKey: .lastExit)
        try container.encode(memory, forKey: .memory)
        try container.encode(anonLimitBytes, forKey: .anonLimitBytes)
        try container.encode(statusText, forKey: .statusText)
    }
}

extension ServiceStatus {
    /// The service as it is at `now` (the clock its state's instants come from).
    public init(_ service: Supervisor.Service, memory: MemoryClasses?, now: ContinuousClock.Instant) {
        let snapshot = service.snapshot
        func seconds(_ duration: Duration) -> Double {
            Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        }
        name = snapshot.name
        state = snapshot.state.phase.rawValue
        pid = snapshot.mainPid
        switch snapshot.state {
        case .running(_, let since):
            uptimeSeconds = seconds(now - since)
        case .waitingForReady(_, let since):
            uptimeSeconds = seconds(now - since)
            detail = "waiting for READY=1"
        case .backoff(let until, let reason):
            backoffRemainingSeconds = max(0, seconds(until - now))
            detail = "restart after \(reason.rawValue)"
        case .failed(let reason):
            detail = reason.description
        case .exited(let status):
            detail = status.description
        case .stopping(_, .restart(let reason)):
            detail = "restarting (\(reason.rawValue))"
        case .idle, .starting, .stopping(_, .stay):
            break
        }
        restarts = Dictionary(uniqueKeysWithValues: RestartReason.allCases.map { ($0.rawValue, snapshot.restarts[$0, default: 0]) })
        lastExit = snapshot.lastExit.map { status in
            switch status {
            case .exited(let code): Exit(code: code, signal: nil)
            case .signaled(let signal): Exit(code: nil, signal: signal)
            }
        }
        self.memory = memory.map {
            Memory(
                anonBytes: $0.anonBytes, swapBytes: $0.swapBytes, shmemBytes: $0.shmemBytes, activeFileBytes: $0.activeFileBytes,
                inactiveFileBytes: $0.inactiveFileBytes, kernelBytes: $0.kernelBytes, usageBytes: $0.usageBytes
            )
        }
        anonLimitBytes = service.configuration.memory.anonLimitBytes
        statusText = snapshot.statusText
    }
}

extension ServiceStatus {
    /// The service now, its memory read from its cgroup.
    public init(reading service: Supervisor.Service) {
        self.init(service, memory: service.reader.read().sample?.memory, now: .now)
    }
}

/// Every service, as `GET /v1/services` and the status page's `GET /status` answer.
public struct StatusReport: Codable, Sendable, Equatable {
    public var services: [ServiceStatus]

    public init(services: [ServiceStatus]) {
        self.services = services
    }

    /// Every service of `supervisor` now.
    public init(of supervisor: Supervisor) {
        services = supervisor.services.map(ServiceStatus.init(reading:))
    }
}
