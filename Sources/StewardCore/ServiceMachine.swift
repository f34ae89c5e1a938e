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
    /// The stop signal was sent; waiting for the main process, then the cgroup is killed. (No pid
    /// when a stop overtook a spawn; the engine answers a spawn within the same event, so it does
    /// not see that state, but the machine stays total for an engine that would not.)
    case stopping(pid: Int32?, then: AfterStop)
    /// Waiting out the restart delay.
    case backoff(until: ContinuousClock.Instant, reason: RestartReason)
    /// Ended and not restarted by its policy.
    case exited(ExitStatus)
    /// Gave up: start limit reached, or a failure its policy does not restart.
    case failed(FailureReason)

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
        case .starting, .waitingForReady, .running, .stopping, .backoff: false
        }
    }

    /// The main process, while there is one.
    public var mainPid: Int32? {
        switch self {
        case .waitingForReady(let pid, _), .running(let pid, _): pid
        case .stopping(let pid, _): pid
        case .idle, .starting, .backoff, .exited, .failed: nil
        }
    }
}

/// Why a spawn failed, in words that name what was being done ("execve /usr/bin/api: No such file
/// or directory"): the operating system's reason is text by the time it gets here.
public struct SpawnFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// How one run ended.
public enum RunEnding: Sendable, Equatable, CustomStringConvertible {
    /// The main process ended by itself.
    case exited(ExitStatus)
    /// It never started.
    case spawnFailed(SpawnFailure)
    /// Steward stopped it in order to start it again.
    case stoppedToRestart(RestartReason)

    public var description: String {
        switch self {
        case .exited(let status): "\(status)"
        case .spawnFailed(let failure): failure.message
        case .stoppedToRestart(let reason): reason.rawValue
        }
    }
}

/// Why a service is `failed`.
public enum FailureReason: Sendable, Equatable, CustomStringConvertible {
    /// Its restart policy does not restart a run that ended this way.
    case ended(RunEnding)
    /// `runs` consecutive runs were shorter than `shorterThan` (the start limit).
    case startLimit(runs: Int, shorterThan: Duration, last: RunEnding)
    /// A `ready = "notify"` service sent no READY=1 in time, and its policy is `never`.
    case noReadyNotification(within: Duration)

    public var description: String {
        switch self {
        case .ended(let ending): "\(ending)"
        case .startLimit(let runs, let shorterThan, let last): "start limit reached: \(runs) runs shorter than \(shorterThan) (last: \(last))"
        case .noReadyNotification(let within): "no READY=1 within \(within)"
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

/// Which processes a signal goes to.
public enum SignalTarget: String, Sendable, Equatable {
    case mainProcess = "main"
    case wholeCgroup = "cgroup"
}

/// What an operator (or the library user) may ask of a service: the public command API.
public enum ServiceCommand: Sendable, Equatable {
    case start
    case stop
    /// Stop and start again (counted as a `manual` restart); starts a service that is not running.
    case restart
    case signal(Int32, to: SignalTarget)
}

/// Every input of a service's machine. Commands come from outside; the rest are reports of what
/// happened: the spawn's answer, the main process's exit, a timer, a notify message, the memory
/// guard's verdict.
public enum ServiceEvent: Sendable, Equatable {
    case command(ServiceCommand)
    case spawned(pid: Int32)
    case spawnFailed(SpawnFailure)
    /// A main process ended; `pid` tells a run's exit from a late report about an earlier one.
    case mainExited(pid: Int32, ExitStatus)
    case timerFired(TimerToken)
    /// A process in the service's cgroup sent READY=1.
    case ready
    /// The memory guard saw the run of `pid` above its anon limit for the whole window.
    case anonLimitExceeded(pid: Int32)
}

public enum ServiceAction: Sendable, Equatable {
    /// Start the main process in the service's cgroup; answer with `spawned` or `spawnFailed`.
    case spawn
    /// Send the stop signal, to the whole cgroup or the main process per kill mode.
    case sendStopSignal(pid: Int32)
    /// An operator's signal.
    case sendSignal(Int32, to: SignalTarget, pid: Int32)
    /// SIGKILL whatever is left in the cgroup and wait until it is empty.
    case killCgroup
    /// Remove the (empty) cgroup: the service will not run again until started.
    case removeCgroup
    case startTimer(TimerToken, after: Duration)
    case log(LogLevel, String)

    public enum LogLevel: Sendable, Equatable { case info, warning, error }
}

/// Why an event changed nothing: every cell of the machine's table that is not an action list
/// names one of these.
public enum IgnoredBecause: String, Sendable, Equatable {
    case notRunning = "not running"
    case alreadyStarting = "already starting"
    case alreadyRunning = "already running"
    case alreadyStopping = "already stopping"
    /// Stopping, and starting again afterwards already.
    case alreadyRestarting = "already restarting"
    /// A `ready = "notify"` service that has not sent READY=1: the guard does not watch it yet.
    case notReady = "not ready yet"
    /// A timer of an earlier generation (each timer is superseded, never cancelled).
    case staleTimer = "stale timer"
    /// A guard verdict about an earlier run.
    case staleRun = "about an earlier run"
    /// A report about a process that is not the current run's: the late exit of a child whose exec
    /// failed, or (kept total) an answer to a spawn nobody asked for.
    case noSuchProcess = "no such process"
}

/// The machine's answer to one event.
public enum Reaction: Sendable, Equatable {
    case perform([ServiceAction])
    case ignore(IgnoredBecause)

    public var actions: [ServiceAction] {
        switch self {
        case .perform(let actions): actions
        case .ignore: []
        }
    }
}

/// The per-service supervisor as a pure state machine, in the spirit of s6-supervise's
/// `actions[state][event]`: every state × event cell is spelled out (no default), either as the
/// actions the caller performs or as a named reason to ignore the event. It never reads a clock:
/// the caller passes `now`.
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

    /// `restarts`: the counts to carry on from (an earlier Steward's, from its checkpoint).
    public init(restartPolicy: RestartPolicy, backoff: BackoffPolicy, stopTimeout: Duration, readyTimeout: Duration? = nil,
                restarts: [RestartReason: Int] = [:]) {
        self.restartPolicy = restartPolicy
        self.restarts = restarts
        self.backoff = backoff
        self.stopTimeout = stopTimeout
        self.readyTimeout = readyTimeout
        self.nextDelay = backoff.initialDelay
    }

    public mutating func handle(_ event: ServiceEvent, at now: ContinuousClock.Instant) -> Reaction {
        switch state {
        case .idle, .exited, .failed:
            switch event {
            case .command(.start), .command(.restart): return startFresh()
            case .command(.stop), .command(.signal), .ready, .anonLimitExceeded: return .ignore(.notRunning)
            case .spawned, .spawnFailed, .mainExited: return .ignore(.noSuchProcess)
            case .timerFired: return .ignore(.staleTimer)
            }

        case .starting:
            switch event {
            case .command(.start), .command(.restart): return .ignore(.alreadyStarting)
            case .command(.stop):
                state = .stopping(pid: nil, then: .stay)
                return .perform([])
            case .command(.signal), .ready, .anonLimitExceeded: return .ignore(.notRunning)
            case .spawned(let pid):
                lastStart = now
                guard let readyTimeout else {
                    state = .running(pid: pid, since: now)
                    return .perform([])
                }
                state = .waitingForReady(pid: pid, since: now)
                return .perform([newTimer(.startTimeout, after: readyTimeout)])
            case .spawnFailed(let failure):
                return .perform(afterRun(.spawnFailed(failure), status: .exited(127), reason: .spawnFailure, ranFor: .zero, now: now))
            case .mainExited: return .ignore(.noSuchProcess)
            case .timerFired: return .ignore(.staleTimer)
            }

        case .waitingForReady(let pid, let since):
            switch event {
            case .command(.start): return .ignore(.alreadyStarting)
            case .command(.stop): return .perform(beginStop(pid: pid, then: .stay))
            case .command(.restart): return .perform(beginStop(pid: pid, then: .restart(.manual)))
            case .command(.signal(let signal, let target)): return .perform([.sendSignal(signal, to: target, pid: pid)])
            case .ready:
                generation += 1
                state = .running(pid: pid, since: since)
                return .perform([.log(.info, "ready")])
            // The guard watches running services only.
            case .anonLimitExceeded: return .ignore(.notReady)
            case .mainExited(let exited, let status):
                guard exited == pid else { return .ignore(.noSuchProcess) }
                return .perform(mainExited(status, ranFor: now - since, now: now))
            case .spawned, .spawnFailed: return .ignore(.noSuchProcess)
            case .timerFired(let token):
                guard token == current(.startTimeout) else { return .ignore(.staleTimer) }
                return .perform([.log(.error, "no READY=1 within \(readyTimeout ?? .zero); stopping")] + beginStop(pid: pid, then: .restart(.startTimeout)))
            }

        case .running(let pid, let since):
            switch event {
            case .command(.start), .ready: return .ignore(.alreadyRunning)
            case .command(.stop): return .perform(beginStop(pid: pid, then: .stay))
            case .command(.restart): return .perform(beginStop(pid: pid, then: .restart(.manual)))
            case .command(.signal(let signal, let target)): return .perform([.sendSignal(signal, to: target, pid: pid)])
            case .anonLimitExceeded(let about):
                guard about == pid else { return .ignore(.staleRun) }
                return .perform(beginStop(pid: pid, then: .restart(.anonMemory)))
            case .mainExited(let exited, let status):
                guard exited == pid else { return .ignore(.noSuchProcess) }
                return .perform(mainExited(status, ranFor: now - since, now: now))
            case .spawned, .spawnFailed: return .ignore(.noSuchProcess)
            case .timerFired: return .ignore(.staleTimer)
            }

        case .stopping(let pid, let then):
            switch event {
            case .command(.start), .command(.restart):
                // Asked to run while stopping: it starts again once stopped, as a manual restart.
                guard then == .stay else { return .ignore(.alreadyRestarting) }
                state = .stopping(pid: pid, then: .restart(.manual))
                return .perform([])
            case .ready, .anonLimitExceeded: return .ignore(.alreadyStopping)
            case .command(.stop):
                guard then != .stay else { return .ignore(.alreadyStopping) }
                state = .stopping(pid: pid, then: .stay)  // a stop overrides a pending restart
                return .perform([])
            case .command(.signal(let signal, let target)):
                guard let pid else { return .ignore(.notRunning) }
                return .perform([.sendSignal(signal, to: target, pid: pid)])
            case .spawned(let spawned):
                // A stop overtook the spawn: stop what it started.
                guard pid == nil else { return .ignore(.noSuchProcess) }
                lastStart = now
                return .perform(beginStop(pid: spawned, then: then))
            case .spawnFailed:
                guard pid == nil else { return .ignore(.noSuchProcess) }
                return .perform(finishStop(then: then, ranFor: .zero, now: now))
            case .mainExited(let exited, let status):
                guard let pid, exited == pid else { return .ignore(.noSuchProcess) }
                lastExit = status
                return .perform([.killCgroup] + finishStop(then: then, ranFor: lastStart.map { now - $0 } ?? .zero, now: now))
            case .timerFired(let token):
                guard pid != nil, token == current(.stopTimeout) else { return .ignore(.staleTimer) }
                return .perform([.log(.warning, "stop timeout of \(stopTimeout) passed; killing the cgroup"), .killCgroup])
            }

        case .backoff:
            switch event {
            case .command(.start), .command(.restart):
                generation += 1
                state = .starting
                return .perform([.spawn])
            case .command(.stop):
                generation += 1
                state = .idle
                return .perform([.removeCgroup])
            case .command(.signal), .ready, .anonLimitExceeded: return .ignore(.notRunning)
            case .spawned, .spawnFailed, .mainExited: return .ignore(.noSuchProcess)
            case .timerFired(let token):
                guard token == current(.restartDelay) else { return .ignore(.staleTimer) }
                state = .starting
                return .perform([.spawn])
            }
        }
    }

    private mutating func startFresh() -> Reaction {
        quickFailures = 0
        nextDelay = backoff.initialDelay
        state = .starting
        return .perform([.spawn])
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

    /// The main process of a run nobody was stopping ended: whatever it left dies with it.
    private mutating func mainExited(_ status: ExitStatus, ranFor: Duration, now: ContinuousClock.Instant) -> [ServiceAction] {
        lastExit = status
        let reason: RestartReason = if case .signaled = status { .signal } else { .exit }
        return [.killCgroup] + afterRun(.exited(status), status: status, reason: reason, ranFor: ranFor, now: now)
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
            state = .failed(.noReadyNotification(within: readyTimeout ?? .zero))
            return [.removeCgroup]
        case .restart(let reason):
            return scheduleRestart(after: .stoppedToRestart(reason), reason: reason, ranFor: ranFor, now: now)
        }
    }

    /// Decides what follows a run that ended on its own (or failed to start).
    private mutating func afterRun(_ ending: RunEnding, status: ExitStatus, reason: RestartReason, ranFor: Duration, now: ContinuousClock.Instant) -> [ServiceAction] {
        let restart = switch restartPolicy {
        case .always: true
        case .onFailure: !status.isSuccess
        case .never: false
        }
        guard restart else {
            state = status.isSuccess ? .exited(status) : .failed(.ended(ending))
            return [.log(status.isSuccess ? .info : .error, "ended: \(ending)"), .removeCgroup]
        }
        return scheduleRestart(after: ending, reason: reason, ranFor: ranFor, now: now)
    }

    private mutating func scheduleRestart(after ending: RunEnding, reason: RestartReason, ranFor: Duration, now: ContinuousClock.Instant) -> [ServiceAction] {
        if ranFor >= backoff.resetAfter {
            quickFailures = 0
            nextDelay = backoff.initialDelay
        }
        quickFailures += 1
        if backoff.startLimit > 0 && quickFailures >= backoff.startLimit {
            state = .failed(.startLimit(runs: quickFailures, shorterThan: backoff.resetAfter, last: ending))
            return [.log(.error, "giving up after \(quickFailures) quick restarts (last: \(ending))"), .removeCgroup]
        }
        let delay = nextDelay
        nextDelay = min(nextDelay * 2, backoff.maximumDelay)
        restarts[reason, default: 0] += 1
        state = .backoff(until: now + delay, reason: reason)
        return [.log(.info, "\(ending); restarting in \(delay)"), newTimer(.restartDelay, after: delay)]
    }
}
