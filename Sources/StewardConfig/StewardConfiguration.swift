import Glibc
import StewardCore

/// Everything a Steward config file says, validated, with defaults applied.
public struct StewardConfiguration: Sendable, Equatable {
    /// `[metrics] listen`: where the Prometheus endpoint listens.
    public var metricsListen: ListenAddress
    /// `[metrics] max_connections`, `idle_timeout`, `max_header_bytes`, `max_body_bytes`: what one client may take.
    public var metricsLimits: MetricsListenLimits
    /// `[cgroup] root`: the cgroup to create service cgroups under, in every hierarchy; nil nests
    /// them directly below Steward's own cgroup, a relative path nests them below that path inside
    /// Steward's own cgroup, an absolute path is taken from each hierarchy's root.
    public var cgroupRoot: String?
    /// `[control]`: the operators' socket (`steward ctl`).
    public var control: ControlSettings
    /// `[services.<name>]`, sorted by name.
    public var services: [ServiceConfiguration]

    public init(
        metricsListen: ListenAddress = .defaultMetrics,
        metricsLimits: MetricsListenLimits = MetricsListenLimits(),
        cgroupRoot: String? = nil,
        control: ControlSettings = ControlSettings(),
        services: [ServiceConfiguration] = []
    ) {
        self.metricsListen = metricsListen
        self.metricsLimits = metricsLimits
        self.cgroupRoot = cgroupRoot
        self.control = control
        self.services = services.sorted { $0.name < $1.name }
    }

    /// Every rule the configuration breaks, services included; `key` paths start at the file's root
    /// (e.g. `["services", "api", "start_limit"]`). Loading a file runs this too.
    public func validate() -> [ConfigIssue] {
        var issues: [ConfigIssue] = []
        if let cgroupRoot, cgroupRoot.split(separator: "/").contains(where: { $0 == "." || $0 == ".." }) {
            issues.append(ConfigIssue(key: ["cgroup", "root"], message: "must not contain \".\" or \"..\" components"))
        }
        issues += metricsLimits.validate().map { ConfigIssue(key: ["metrics"] + $0.key, message: $0.message) }
        if let socket = control.socket, !socket.hasPrefix("/") {
            issues.append(ConfigIssue(key: ["control", "socket"], message: "must be an absolute path"))
        }
        if !(1...1_000_000).contains(control.logLines) {
            issues.append(ConfigIssue(key: ["control", "log_lines"], message: "must be from 1 to 1000000"))
        }
        if !(1024...(1 << 30)).contains(control.logBytes) {
            issues.append(ConfigIssue(key: ["control", "log_bytes"], message: "must be from 1KiB to 1GiB"))
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

/// `[control]`: where `steward ctl` reaches this Steward, and who may.
public struct ControlSettings: Sendable, Equatable {
    /// `socket`: nil is the default path for the config file (`defaultSocketPath`).
    public var socket: String?
    /// `group`: members may use the socket too (mode 0660 instead of 0600), as with docker.sock.
    public var group: String?
    /// `log_lines`, `log_bytes`: the recent output kept per service for `steward ctl logs` (when
    /// Steward reads the output: on the console, not under journald), whichever bound comes first.
    public var logLines: Int
    public var logBytes: UInt64

    public init(socket: String? = nil, group: String? = nil, logLines: Int = 1000, logBytes: UInt64 = 256 << 10) {
        self.socket = socket
        self.group = group
        self.logLines = logLines
        self.logBytes = logBytes
    }

    /// The socket of the Steward running `configPath`, when its config does not name one: named
    /// after the file (`/etc/steward/web.toml` → `web.sock`, so the Stewards of `steward@.service`
    /// get one each) in /run/steward for root, else in $XDG_RUNTIME_DIR/steward. `steward ctl`
    /// finds its Steward by the same rule. Nil when no runtime directory is known.
    public static func defaultSocketPath(forConfig configPath: String, userID: UInt32, runtimeDirectory: String?) -> String? {
        let file = configPath.split(separator: "/").last.map(String.init) ?? configPath
        let stem = file.hasSuffix(".toml") && file.count > 5 ? String(file.dropLast(5)) : file
        let directory = userID == 0 ? "/run/steward" : runtimeDirectory.map { $0 + "/steward" }
        return directory.map { "\($0)/\(stem).sock" }
    }

    /// Where the Steward whose control socket is `socketPath` keeps its services' counters while it
    /// runs, for a Steward started after a crash to carry on from: beside the socket, `.counters`
    /// instead of `.sock` (`/run/steward/web.counters`).
    public static func countersPath(forSocket socketPath: String) -> String {
        (socketPath.hasSuffix(".sock") ? String(socketPath.dropLast(5)) : socketPath) + ".counters"
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
    /// `pids_max`, `cpu_weight`, `cpu_max`: the kernel's task and CPU limits for the cgroup.
    public var resources: ResourceLimits

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
        memory: MemoryGuardConfiguration = MemoryGuardConfiguration(),
        resources: ResourceLimits = ResourceLimits()
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
        self.resources = resources
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
        // execve takes C strings: a NUL would silently cut the argument (or variable) there.
        let nul = "must not contain a NUL character (exec would cut the text there)"
        if command.isEmpty {
            check(["command"], "must not be empty: give the program and its arguments")
        } else if command[0].isEmpty {
            check(["command"], "the program (first element) must not be empty")
        } else if command.contains(where: { $0.utf8.contains(0) }) {
            check(["command"], nul)
        }
        for variable in environment.keys.sorted() {
            if variable.isEmpty || variable.contains("=") {
                check(["environment", variable], "invalid environment variable name: must be non-empty, without '='")
            } else if variable.utf8.contains(0) || environment[variable]!.utf8.contains(0) {
                check(["environment", variable], nul)
            }
        }
        check(["stop_signal"], SignalName.stopSignalProblem(stopSignal))
        if let workingDirectory, !workingDirectory.hasPrefix("/") {
            check(["working_directory"], "must be an absolute path")
        } else if let workingDirectory, workingDirectory.utf8.contains(0) {
            check(["working_directory"], nul)
        }
        check(["user"], user == "" ? "must not be empty" : user?.utf8.contains(0) == true ? nul : nil)
        check(["group"], group == "" ? "must not be empty" : group?.utf8.contains(0) == true ? nul : nil)
        if group != nil && user == nil {
            check(["group"], "takes effect only with user: set user too (without it the service runs as Steward's own user)")
        }
        if backoff.maximumDelay < backoff.initialDelay {
            let delays = "\(DurationText.format(backoff.maximumDelay)) < \(DurationText.format(backoff.initialDelay))"
            check(["restart_delay_max"], "must be at least restart_delay (\(delays))")
        }
        check(["start_limit"], backoff.startLimit < 0 ? "must not be negative (0 means never give up)" : nil)
        issues += memory.validate().map { ConfigIssue(key: ["memory"] + $0.key, message: $0.message) }
        issues += resources.validate()
        return issues
    }
}

/// `[services.<name>.memory]`: Steward's anonymous-memory guard and the kernel's own limits.
public struct MemoryGuardConfiguration: Sendable, Equatable {
    /// Sampling faster than this costs more than it catches.
    public static let minimumSampleInterval: Duration = .milliseconds(100)

    /// Anonymous memory (optionally plus shmem) above which the service is restarted.
    public var anonLimitBytes: UInt64?
    /// How long usage must stay above `anonLimitBytes` before acting; nil is three samples (see
    /// `anonLimitWindow`), so one spike does not trigger the guard.
    public var anonLimitFor: Duration?
    public var sampleInterval: Duration
    /// Whether shared memory (tmpfs, shm) counts toward `anonLimitBytes`.
    public var includesShmem: Bool
    /// The kernel's soft limit (memory.high).
    public var highBytes: UInt64?
    /// The kernel's hard limit (memory.max, or memory.limit_in_bytes on cgroup v1).
    public var maxBytes: UInt64?

    /// Below this no program runs: a smaller `anon_limit` restarts every service each window, a
    /// smaller `max` OOM-kills it in a loop.
    public static let minimumLimitBytes: UInt64 = 1 << 20

    /// How long usage must stay above `anonLimitBytes` before the guard acts.
    public var anonLimitWindow: Duration { anonLimitFor ?? sampleInterval * 3 }

    /// Limits that cannot work together; `key` paths are relative to `[memory]`.
    public func validate() -> [ConfigIssue] {
        var issues: [ConfigIssue] = []
        if sampleInterval < Self.minimumSampleInterval {
            issues.append(ConfigIssue(key: ["sample_interval"], message: "must be at least \(DurationText.format(Self.minimumSampleInterval))"))
        }
        for (key, bytes) in [("anon_limit", anonLimitBytes), ("high", highBytes), ("max", maxBytes)] {
            if let bytes, bytes < Self.minimumLimitBytes {
                issues.append(ConfigIssue(key: [key], message: "must be at least \(ByteSize.format(Self.minimumLimitBytes)): no program runs in \(ByteSize.format(bytes))"))
            }
        }
        if let highBytes, let maxBytes, highBytes > maxBytes {
            issues.append(ConfigIssue(key: ["high"], message: "must not be above max (\(ByteSize.format(highBytes)) > \(ByteSize.format(maxBytes)))"))
        }
        if let anonLimitBytes, let maxBytes, anonLimitBytes > maxBytes {
            issues.append(ConfigIssue(key: ["anon_limit"], message: "is above max (\(ByteSize.format(anonLimitBytes)) > \(ByteSize.format(maxBytes))): the kernel OOM-kills the service at max before the guard would act"))
        }
        return issues
    }

    public init(
        anonLimitBytes: UInt64? = nil,
        anonLimitFor: Duration? = nil,
        sampleInterval: Duration = .seconds(1),
        includesShmem: Bool = false,
        highBytes: UInt64? = nil,
        maxBytes: UInt64? = nil
    ) {
        self.anonLimitBytes = anonLimitBytes
        self.anonLimitFor = anonLimitFor
        self.sampleInterval = sampleInterval
        self.includesShmem = includesShmem
        self.highBytes = highBytes
        self.maxBytes = maxBytes
    }
}

/// The kernel's task and CPU limits for a service's cgroup, written before it starts: v2 `pids.max`,
/// `cpu.weight`, `cpu.max`; v1 `pids.max`, `cpu.shares`, `cpu.cfs_quota_us` (hybrid hosts use v1's).
public struct ResourceLimits: Sendable, Equatable {
    /// Tasks (processes and threads) the cgroup may hold at once: a fork bomb stops there.
    public var pidsMax: Int?
    /// CPU share relative to other cgroups, 1 to 10000 (100 is everyone's default), as systemd's
    /// CPUWeight=.
    public var cpuWeight: Int?
    /// CPU time per period as a percentage of one CPU ("150%" is one and a half), as systemd's
    /// CPUQuota=.
    public var cpuMaxPercent: Double?

    /// The period `cpu_max` is enforced over (systemd's default too).
    public static let cpuPeriodMicroseconds = 100_000
    /// The kernel's largest pid (PID_MAX_LIMIT on 64-bit).
    public static let largestPidsMax = 4_194_304
    public static let cpuWeights = 1 ... 10_000

    public init(pidsMax: Int? = nil, cpuWeight: Int? = nil, cpuMaxPercent: Double? = nil) {
        self.pidsMax = pidsMax
        self.cpuWeight = cpuWeight
        self.cpuMaxPercent = cpuMaxPercent
    }

    /// `cpu_max` as the quota per `cpuPeriodMicroseconds`.
    public var cpuQuotaMicroseconds: Int? {
        cpuMaxPercent.map { Int(($0 / 100 * Double(Self.cpuPeriodMicroseconds)).rounded()) }
    }

    /// Parses "150%" (the percent sign is required: a bare number could mean cores or percent).
    public static func parsePercent(_ text: String) -> Double? {
        guard text.hasSuffix("%"), let value = Double(text.dropLast()), value.isFinite else { return nil }
        return value
    }

    /// Limits the kernel would refuse or that would stop the service from running at all; `key`
    /// paths are relative to the service's table.
    public func validate() -> [ConfigIssue] {
        var issues: [ConfigIssue] = []
        if let pidsMax, !(1 ... Self.largestPidsMax).contains(pidsMax) {
            issues.append(ConfigIssue(key: ["pids_max"], message: "must be 1 to \(Self.largestPidsMax) (the main process is one task)"))
        }
        if let cpuWeight, !Self.cpuWeights.contains(cpuWeight) {
            issues.append(ConfigIssue(key: ["cpu_weight"], message: "must be \(Self.cpuWeights.lowerBound) to \(Self.cpuWeights.upperBound) (100 is the default of every cgroup)"))
        }
        // The kernel takes no quota under 1 ms per period: 1% of one CPU.
        if let cpuMaxPercent, cpuMaxPercent < 1 || cpuMaxPercent > 100_000 {
            issues.append(ConfigIssue(key: ["cpu_max"], message: "must be 1% to 100000% of one CPU"))
        }
        return issues
    }
}

/// How much of Steward one HTTP client of the metrics listener may take. The defaults are far above
/// what Prometheus needs (one connection per scraper, kept alive, a request every few seconds with
/// a few hundred bytes of headers) and far below what would cost Steward descriptors or memory.
public struct MetricsListenLimits: Sendable, Equatable {
    /// Connections served at once; more wait in the kernel's accept queue.
    public var maxConnections: Int
    /// A connection with no request under way for this long is closed: between keep-alive requests,
    /// and from accept to a complete request header (a client trickling its header is closed).
    public var idleTimeout: Duration
    /// The request line and headers together; a larger request is answered 400 and closed.
    public var maxHeaderBytes: Int
    /// Header fields per request.
    public var maxHeaderFields = 100
    /// A request body (no endpoint takes one): a larger declared one is answered 413 and closed.
    public var maxBodyBytes: Int

    public init(maxConnections: Int = 64, idleTimeout: Duration = .seconds(10), maxHeaderBytes: Int = 16 << 10, maxBodyBytes: Int = 64 << 10) {
        self.maxConnections = maxConnections
        self.idleTimeout = idleTimeout
        self.maxHeaderBytes = maxHeaderBytes
        self.maxBodyBytes = maxBodyBytes
    }

    /// These limits with `maxConnections` at most an eighth of `openFileLimit` (the metrics readers
    /// may keep a quarter), so that clients run out of connections long before supervision runs
    /// out of descriptors: spawning and stopping never wait for a client to leave.
    public func fitting(openFileLimit: Int) -> MetricsListenLimits {
        var fitted = self
        fitted.maxConnections = min(maxConnections, max(1, openFileLimit / 8))
        return fitted
    }

    /// `key` paths are relative to `[metrics]`.
    public func validate() -> [ConfigIssue] {
        var issues: [ConfigIssue] = []
        if !(1 ... 65_536).contains(maxConnections) { issues.append(ConfigIssue(key: ["max_connections"], message: "must be 1 to 65536")) }
        if idleTimeout < .milliseconds(100) { issues.append(ConfigIssue(key: ["idle_timeout"], message: "must be at least 100ms")) }
        if !(1 << 10 ... 1 << 20).contains(maxHeaderBytes) { issues.append(ConfigIssue(key: ["max_header_bytes"], message: "must be 1KiB to 1MiB")) }
        if !(0 ... 1 << 30).contains(maxBodyBytes) { issues.append(ConfigIssue(key: ["max_body_bytes"], message: "must be 0 to 1GiB")) }
        return issues
    }
}
