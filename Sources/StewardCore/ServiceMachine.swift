/// How a main process ended.
public enum ExitStatus: Sendable, Equatable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Int32)

    public var isSuccess: Bool { self == .exited(0) }

    /// The status a shell (and tini) reports: the code, or 128 + the signal.
    public var shellStatus: Int32 {
        switch self {
        case .exited(let code): code
        case .signaled(let signal): 128 + signal
        }
    }

    public var description: String {
        switch self {
        case .exited(let code): "exit status \(code)"
        case .signaled(let signal): "signal \(signal)"
        }
    }
}

/// Why a service was started again; the label of `steward_service_restarts_total`.
public enum RestartReason: String, Sendable, Hashable, CaseIterable {
    /// The main process exited by itself.
    case exit
    /// The main process was killed by a signal Steward did not send.
    case signal
    /// Its anonymous memory stayed above the limit (the memory guard).
    case anonMemory = "anon_memory"
    /// An operator asked for it.
    case manual
    /// The process could not be started at all (bad path, cgroup error, ...).
    case spawnFailure = "spawn_failure"
    /// A `ready = "notify"` service did not send READY=1 within its start timeout.
    case startTimeout = "start_timeout"
}

public enum ServiceState: Sendable, Equatable {
    /// Not running and not going to run until started.
    case idle
    /// Asked to start; the spawn is under way.
    case starting
    /// Spawned, waiting for READY=1 on its notify socket (`ready = "notify"`).
    case waitingForReady(pid: Int32, since: ContinuousClock.Instant)
    case running(pid: Int32, since: ContinuousClock.Instant)
    /// The stop signal was sent; waiting for the main process, then the cgroup is killed.
    case stopping(pid: Int32?, then: AfterStop)
    /// Waiting out the restart delay.
    case backoff(until: ContinuousClock.Instant, reason: RestartReason)
    /// Ended and not restarted by its policy.
    case exited(ExitStatus)
    /// Gave up: start limit reached, or a failure its policy does not restart.
    case failed(String)

    public enum AfterStop: Sendable, Equatable {
        case stay
        case restart(RestartReason)
    }

    /// The state without its details: what status lines and the state metric show, in the order
    /// they list them.
    public enum Phase: String, Sendable, CaseIterable {
        case running, starting, backoff, stopping, idle, exited, failed
    }

    public var phase: Phase {
        switch self {
        case .idle: .idle
        case .starting, .waitingForReady: .starting
        case .running: .running
        case .stopping: .stopping
        case .backoff: .backoff
        case .exited: .exited
        case .failed: .failed
        }
    }

    /// A short word for status lines and metrics.
    public var name: String { phase.rawValue }

    /// True when no process of the service is expected to be running or started again.
    public var isSettled: Bool {
        switch self {
        case .idle, .exited, .failed: true
        default: false
        }
    }
}

/// A timer the machine asked for; a fired timer whose generation is stale is ignored, so timers
/// never need cancelling for correctness.
public struct TimerToken: Sendable, Hashable {
    public enum Kind: Sendable, Hashable { case restartDelay, stopTimeout, startTimeout }
    public var kind: Kind
    public var generation: Int
}

public enum ServiceEvent: Sendable, Equatable {
    case start
    case stop
    case restart(RestartReason)
    case spawned(pid: Int32)
    /// The service reported READY=1.
    case ready
    case spawnFailed(String)
    case mainExited(ExitStatus)
    case timerFired(TimerToken)
}

public enum ServiceAction: Sendable, Equatable {
    /// Start the main process in the service's cgroup; answer with `spawned` or `spawnFailed`.
    case spawn
    /// Send the stop signal, to the whole cgroup or the main process per kill mode.
    case sendStopSignal(pid: Int32)
    /// SIGKILL whatever is left in the cgroup and wait until it is empty.
    case killCgroup
    /// Remove the (empty) cgroup: the service will not run again until started.
    case removeCgroup
    case startTimer(TimerToken, after: Duration)
    case log(LogLevel, String)

    public enum LogLevel: Sendable, Equatable { case info, warning, error }
}

/// The per-service supervisor as a pure state machine, in the spirit of s6-supervise: every
/// (state, event) pair has a defined answer, and the caller performs the returned actions.
/// It never reads a clock: the caller passes `now`.
public struct ServiceMachine: Sendable {
    public let restartPolicy: RestartPolicy
    public let backoff: BackoffPolicy
    public let stopTimeout: Duration
    /// Set for `ready = "notify"` services: how long they may take to send READY=1.
    public let readyTimeout: Duration?

    public private(set) var state: ServiceState = .idle
    public private(set) var restarts: [RestartReason: Int] = [:]
    public private(set) var lastExit: ExitStatus?
    public private(set) var lastStart: ContinuousClock.Instant?
    /// Consecutive runs shorter than `backoff.resetAfter`.
    public private(set) var quickFailures = 0
    private var nextDelay: Duration
    private var generation = 0

    public init(restartPolicy: RestartPolicy, backoff: BackoffPolicy, stopTimeout: Duration, readyTimeout: Duration? = nil) {
        self.restartPolicy = restartPolicy
        self.backoff = backoff
        self.stopTimeout = stopTimeout
        self.readyTimeout = readyTimeout
        self.nextDelay = backoff.initialDelay
    }

    public mutating func handle(_ event: ServiceEvent, at now: ContinuousClock.Instant) -> [ServiceAction] {
        switch (state, event) {
        case (.idle, .start), (.exited, .start), (.failed, .start):
            quickFailures = 0
            nextDelay = backoff.initialDelay
            state = .starting
            return [.spawn]
        case (.backoff, .start), (.backoff, .restart(.manual)):
            generation += 1
            state = .starting
            return [.spawn]

        case (.starting, .spawned(let pid)):
            lastStart = now
            guard let readyTimeout else {
                state = .running(pid: pid, since: now)
                return []
            }
            state = .waitingForReady(pid: pid, since: now)
            return [newTimer(.startTimeout, after: readyTimeout)]
        case (.waitingForReady(let pid, let since), .ready):
            generation += 1
            state = .running(pid: pid, since: since)
            return [.log(.info, "ready")]
        case (.waitingForReady(let pid, _), .timerFired(let token)) where token == current(.startTimeout):
            return [.log(.error, "no READY=1 within \(readyTimeout ?? .zero); stopping")] + beginStop(pid: pid, then: .restart(.startTimeout))
        case (.starting, .spawnFailed(let message)):
            return afterRun(ended: .exited(127), reason: .spawnFailure, ranFor: .zero, detail: message, now: now)
        case (.stopping(nil, let then), .spawned(let pid)):
            // A stop arrived while the spawn was under way.
            state = .stopping(pid: pid, then: then)
            return beginStop(pid: pid, then: then)
        case (.stopping(nil, let then), .spawnFailed):
            return finishStop(then: then, ranFor: .zero, now: now)

        case (.running(_, let since), .mainExited(let status)), (.waitingForReady(_, let since), .mainExited(let status)):
            lastExit = status
            let reason: RestartReason = if case .signaled = status { .signal } else { .exit }
            return [.killCgroup] + afterRun(ended: status, reason: reason, ranFor: now - since, detail: "\(status)", now: now)

        case (.running(let pid, _), .stop), (.waitingForReady(let pid, _), .stop):
            return beginStop(pid: pid, then: .stay)
        case (.running(let pid, _), .restart(let reason)), (.waitingForReady(let pid, _), .restart(let reason)):
            return beginStop(pid: pid, then: .restart(reason))
        case (.starting, .stop):
            state = .stopping(pid: nil, then: .stay)
            return []
        case (.stopping(let pid, _), .stop):
            state = .stopping(pid: pid, then: .stay) // a stop overrides a pending restart
            return []

        case (.stopping(.some, let then), .mainExited(let status)):
            lastExit = status
            let ranFor = lastStart.map { now - $0 } ?? .zero
            return [.killCgroup] + finishStop(then: then, ranFor: ranFor, now: now)
        case (.stopping(.some, _), .timerFired(let token)) where token == current(.stopTimeout):
            return [.log(.warning, "stop timeout of \(stopTimeout) passed; killing the cgroup"), .killCgroup]

        case (.backoff, .timerFired(let token)) where token == current(.restartDelay):
            state = .starting
            return [.spawn]
        case (.backoff, .stop):
            generation += 1
            state = .idle
            return [.removeCgroup]

        default:
            // Everything else (stale timers, stop when already stopped, ...) changes nothing.
            return []
        }
    }

    private func current(_ kind: TimerToken.Kind) -> TimerToken {
        TimerToken(kind: kind, generation: generation)
    }

    private mutating func newTimer(_ kind: TimerToken.Kind, after delay: Duration) -> ServiceAction {
        generation += 1
        return .startTimer(current(kind), after: delay)
    }

    private mutating func beginStop(pid: Int32, then: ServiceState.AfterStop) -> [ServiceAction] {
        state = .stopping(pid: pid, then: then)
        return [.sendStopSignal(pid: pid), newTimer(.stopTimeout, after: stopTimeout)]
    }

    private mutating func finishStop(then: ServiceState.AfterStop, ranFor: Duration, now: ContinuousClock.Instant) -> [ServiceAction] {
        generation += 1
        switch then {
        case .stay:
            state = .idle
            return [.removeCgroup]
        case .restart(.manual):
            restarts[.manual, default: 0] += 1
            state = .starting
            return [.log(.info, "restarting (manual)"), .spawn]
        case .restart(.startTimeout) where restartPolicy == .never:
            state = .failed("no READY=1 within \(readyTimeout ?? .zero)")
            return [.removeCgroup]
        case .restart(let reason):
            return scheduleRestart(reason: reason, ranFor: ranFor, detail: reason.rawValue, now: now)
        }
    }

    /// Decides what follows a run that ended on its own (or failed to start).
    private mutating func afterRun(ended status: ExitStatus, reason: RestartReason, ranFor: Duration, detail: String, now: ContinuousClock.Instant) -> [ServiceAction] {
        let restart = switch restartPolicy {
        case .always: true
        case .onFailure: !status.isSuccess
        case .never: false
        }
        guard restart else {
            state = status.isSuccess ? .exited(status) : .failed(detail)
            return [.log(status.isSuccess ? .info : .error, "ended: \(detail)"), .removeCgroup]
        }
        return scheduleRestart(reason: reason, ranFor: ranFor, detail: detail, now: now)
    }

    private mutating func scheduleRestart(reason: RestartReason, ranFor: Duration, detail: String, now: ContinuousClock.Instant) -> [ServiceAction] {
        if ranFor >= backoff.resetAfter {
            quickFailures = 0
            nextDelay = backoff.initialDelay
        }
        quickFailures += 1
        if backoff.startLimit > 0 && quickFailures >= backoff.startLimit {
            state = .failed("start limit reached: \(quickFailures) runs shorter than \(backoff.resetAfter) (last: \(detail))")
            return [.log(.error, "giving up after \(quickFailures) quick restarts (last: \(detail))"), .removeCgroup]
        }
        let delay = nextDelay
        nextDelay = min(nextDelay * 2, backoff.maximumDelay)
        restarts[reason, default: 0] += 1
        state = .backoff(until: now + delay, reason: reason)
        return [.log(.info, "\(detail); restarting in \(delay)"), newTimer(.restartDelay, after: delay)]
    }

}
