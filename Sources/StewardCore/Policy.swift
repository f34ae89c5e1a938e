/// When a service whose main process exited is started again.
public enum RestartPolicy: String, Sendable, Equatable, CaseIterable {
    /// Restart after every exit, clean or not.
    case always
    /// Restart only after a non-zero exit status or death by a signal.
    case onFailure = "on-failure"
    /// Never restart; the service ends `exited` (or `failed`).
    case never
}

/// Which processes the stop signal goes to (the final SIGKILL always covers the whole cgroup).
public enum KillMode: String, Sendable, Equatable, CaseIterable {
    /// Every process in the service's cgroup, like systemd's KillMode=control-group.
    case controlGroup = "control-group"
    /// The main process only; the rest of the cgroup is killed once it has exited.
    case process
}

/// Exponential restart backoff with a start limit, in the spirit of systemd's
/// RestartSec / StartLimitBurst and s6's minimum restart interval.
public struct BackoffPolicy: Sendable, Equatable {
    /// Delay before the first restart; doubled after each quick failure.
    public var initialDelay: Duration
    /// Upper bound of the delay.
    public var maximumDelay: Duration
    /// A run that lasted at least this long resets the delay and the failure count.
    public var resetAfter: Duration
    /// Consecutive quick runs (shorter than `resetAfter`) after which the service is marked failed
    /// instead of restarted. 0 means never give up.
    public var startLimit: Int

    public init(
        initialDelay: Duration = .milliseconds(100),
        maximumDelay: Duration = .seconds(30),
        resetAfter: Duration = .seconds(10),
        startLimit: Int = 10
    ) {
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
        self.resetAfter = resetAfter
        self.startLimit = startLimit
    }
}
