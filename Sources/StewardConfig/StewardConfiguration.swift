#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import StewardCore

/// Everything a Steward config file says, validated, with defaults applied.
public struct StewardConfiguration: Sendable, Equatable {
    /// `[metrics] listen`: where the Prometheus endpoint listens.
    public var metricsListen: ListenAddress
    /// `[cgroup] root`: the cgroup to create service cgroups under, in every hierarchy; nil nests
    /// them directly below Steward's own cgroup, a relative path nests them below that path inside
    /// Steward's own cgroup, an absolute path is taken from each hierarchy's root.
    public var cgroupRoot: String?
    /// `[services.<name>]`, sorted by name.
    public var services: [ServiceConfiguration]

    public init(
        metricsListen: ListenAddress = .defaultMetrics,
        cgroupRoot: String? = nil,
        services: [ServiceConfiguration] = []
    ) {
        self.metricsListen = metricsListen
        self.cgroupRoot = cgroupRoot
        self.services = services.sorted { $0.name < $1.name }
    }

    /// Every rule the configuration breaks, services included; `key` paths start at the file's root
    /// (e.g. `["services", "api", "start_limit"]`). Loading a file runs this too.
    public func validate() -> [ConfigIssue] {
        var issues: [ConfigIssue] = []
        if let cgroupRoot, cgroupRoot.split(separator: "/").contains(where: { $0 == "." || $0 == ".." }) {
            issues.append(ConfigIssue(key: ["cgroup", "root"], message: "must not contain \".\" or \"..\" components"))
        }
        if services.isEmpty {
            issues.append(ConfigIssue(key: ["services"], message: "no services defined"))
        }
        var seen: Set<String> = []
        for service in services {
            if !seen.insert(service.name).inserted {
                issues.append(ConfigIssue(key: ["services", service.name], message: "duplicate service name"))
            }
            issues += service.validate().map {
                ConfigIssue(key: ["services", service.name] + $0.key, message: $0.message)
            }
        }
        return issues
    }
}

/// How Steward decides that a started service is up.
public enum Readiness: String, Sendable, Equatable, CaseIterable {
    /// As soon as its process has been spawned.
    case started
    /// When it sends READY=1 over $NOTIFY_SOCKET (sd_notify), within `startTimeout`.
    case notify
}

/// One `[services.<name>]` table.
public struct ServiceConfiguration: Sendable, Equatable {
    /// Also the name of the service's cgroup directory; see `validateName`.
    public var name: String
    /// The program and its arguments (argv).
    public var command: [String]
    public var restart: RestartPolicy
    /// How long to wait after `stopSignal` before killing the whole cgroup.
    public var stopTimeout: Duration
    public var stopSignal: Int32
    public var killMode: KillMode
    /// Added to the service's environment.
    public var environment: [String: String]
    public var workingDirectory: String?
    /// A user name or numeric uid, resolved when the service starts.
    public var user: String?
    /// A group name or numeric gid, resolved when the service starts.
    public var group: String?
    /// Whether the service starts with Steward.
    public var autostart: Bool
    /// `restart_delay`, `restart_delay_max`, `restart_reset_after` and `start_limit`.
    public var backoff: BackoffPolicy
    public var readiness: Readiness
    /// How long a `notify` service may take to report ready.
    public var startTimeout: Duration
    public var memory: MemoryGuardConfiguration

    public init(
        name: String,
        command: [String],
        restart: RestartPolicy = .onFailure,
        stopTimeout: Duration = .seconds(10),
        stopSignal: Int32 = SIGTERM,
        killMode: KillMode = .controlGroup,
        environment: [String: String] = [:],
        workingDirectory: String? = nil,
        user: String? = nil,
        group: String? = nil,
        autostart: Bool = true,
        backoff: BackoffPolicy = BackoffPolicy(),
        readiness: Readiness = .started,
        startTimeout: Duration = .seconds(90),
        memory: MemoryGuardConfiguration = MemoryGuardConfiguration()
    ) {
        self.name = name
        self.command = command
        self.restart = restart
        self.stopTimeout = stopTimeout
        self.stopSignal = stopSignal
        self.killMode = killMode
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.user = user
        self.group = group
        self.autostart = autostart
        self.backoff = backoff
        self.readiness = readiness
        self.startTimeout = startTimeout
        self.memory = memory
    }

    /// Why `name` cannot name a service, or nil if it can.
    ///
    /// A name becomes a cgroup directory, so it is 1–64 of A-Z a-z 0-9 _ - (the characters of a bare
    /// TOML key, which also rules out "." and ".."), does not start with "-", and is not "steward",
    /// the leaf cgroup Steward moves itself into.
    public static func validateName(_ name: String) -> String? {
        if name.isEmpty || name.utf8.count > 64 { return "invalid service name: must be 1 to 64 characters long" }
        if !name.utf8.allSatisfy(\.isBareKeyByte) {
            return "invalid service name: only letters, digits, '_' and '-' are allowed"
        }
        if name.hasPrefix("-") { return "invalid service name: must not start with '-'" }
        if name == "steward" { return "invalid service name: \"steward\" is reserved for Steward's own cgroup" }
        return nil
    }

    /// Every rule the service breaks, whether it was read from a file or built from command-line
    /// flags; `key` paths are relative to the service's table (`[]` is the service name itself).
    public func validate() -> [ConfigIssue] {
        var issues: [ConfigIssue] = []
        func check(_ key: [String], _ problem: String?) {
            if let problem { issues.append(ConfigIssue(key: key, message: problem)) }
        }
        check([], Self.validateName(name))
        if command.isEmpty {
            check(["command"], "must not be empty: give the program and its arguments")
        } else if command[0].isEmpty {
            check(["command"], "the program (first element) must not be empty")
        }
        for variable in environment.keys.sorted() where variable.isEmpty || variable.contains("=") {
            check(["environment", variable], "invalid environment variable name: must be non-empty, without '='")
        }
        if let workingDirectory, !workingDirectory.hasPrefix("/") {
            check(["working_directory"], "must be an absolute path")
        }
        check(["user"], user == "" ? "must not be empty" : nil)
        check(["group"], group == "" ? "must not be empty" : nil)
        if backoff.maximumDelay < backoff.initialDelay {
            let delays = "\(DurationText.format(backoff.maximumDelay)) < \(DurationText.format(backoff.initialDelay))"
            check(["restart_delay_max"], "must be at least restart_delay (\(delays))")
        }
        check(["start_limit"], backoff.startLimit < 0 ? "must not be negative (0 means never give up)" : nil)
        if memory.sampleInterval < MemoryGuardConfiguration.minimumSampleInterval {
            let minimum = DurationText.format(MemoryGuardConfiguration.minimumSampleInterval)
            check(["memory", "sample_interval"], "must be at least \(minimum)")
        }
        return issues
    }
}

/// `[services.<name>.memory]`: Steward's anonymous-memory guard and the kernel's own limits.
public struct MemoryGuardConfiguration: Sendable, Equatable {
    /// Sampling faster than this costs more than it catches.
    public static let minimumSampleInterval: Duration = .milliseconds(100)

    /// Anonymous memory (optionally plus shmem) above which the service is restarted.
    public var anonLimitBytes: UInt64?
    /// How long usage must stay above `anonLimitBytes` before acting.
    public var anonLimitFor: Duration
    public var sampleInterval: Duration
    /// Whether shared memory (tmpfs, shm) counts toward `anonLimitBytes`.
    public var includesShmem: Bool
    /// The kernel's soft limit (memory.high).
    public var highBytes: UInt64?
    /// The kernel's hard limit (memory.max, or memory.limit_in_bytes on cgroup v1).
    public var maxBytes: UInt64?

    /// `anonLimitFor` defaults to three samples, so one spike does not trigger the guard.
    public init(
        anonLimitBytes: UInt64? = nil,
        anonLimitFor: Duration? = nil,
        sampleInterval: Duration = .seconds(1),
        includesShmem: Bool = false,
        highBytes: UInt64? = nil,
        maxBytes: UInt64? = nil
    ) {
        self.anonLimitBytes = anonLimitBytes
        self.anonLimitFor = anonLimitFor ?? sampleInterval * 3
        self.sampleInterval = sampleInterval
        self.includesShmem = includesShmem
        self.highBytes = highBytes
        self.maxBytes = maxBytes
    }
}
