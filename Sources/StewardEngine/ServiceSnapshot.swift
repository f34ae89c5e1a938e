import CgroupFS
import StewardCore

/// What the outside world may know of a service at any moment (metrics, status, tests). Its counters
/// (CPU, OOM kills, pressure) are not here: the service's `CgroupReader` owns them.
public struct ServiceSnapshot: Sendable {
    public var name: String
    public var state: ServiceState
    public var restarts: [RestartReason: Int]
    public var lastExit: ExitStatus?
    /// Wall-clock time of the last start, seconds since the epoch.
    public var startTimeSeconds: Double?
    public var cgroup: ServiceCgroup
    /// The last STATUS= a `ready = "notify"` service sent.
    public var statusText: String?
    /// Wall-clock time the memory guard last restarted the service, seconds since the epoch.
    public var anonLimitLastTriggerSeconds: Double?

    public var mainPid: Int32? { state.mainPid }

    public var isUp: Bool {
        if case .running = state { true } else { false }
    }
}

/// What became of a command.
public enum CommandOutcome: Sendable, Equatable {
    /// The service acted on it (its state may still be on the way: wait for the one you need).
    case accepted
    /// Nothing to do, and why ("already running", "not running").
    case ignored(IgnoredBecause)
    /// No service of that name.
    case unknownService
    /// The supervisor takes no commands in this phase of its lifecycle (before `start`, while
    /// shutting down, once finished), or the service was stopped for good (retired by a reload).
    case refused(Supervisor.Lifecycle)
}
