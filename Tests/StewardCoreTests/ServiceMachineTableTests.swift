import Testing
@testable import StewardCore

/// Every state × event cell of the machine, as s6-supervise's `actions[state][event]` table: each
/// either moves the service to a phase or is ignored for a named reason. An ignored event must leave
/// the machine exactly as it was.
@Suite("Service state machine: the whole table")
struct ServiceMachineTableTests {
    static let t0 = ContinuousClock.now
    static let mainPid: Int32 = 5

    enum Cell: Equatable, CustomStringConvertible {
        case to(ServiceState.Phase)
        case ignored(IgnoredBecause)

        var description: String {
            switch self {
            case .to(let phase): "→ \(phase)"
            case .ignored(let reason): "ignored (\(reason.rawValue))"
            }
        }
    }

    enum Column: String, CaseIterable {
        case start, stop, restart, signal, spawned, spawnFailed, mainExited, timer, ready, guardVerdict, guardVerdictOtherRun, mainExitedOtherRun
    }

    /// A machine in the row's state, and the timer it waits for (if any).
    static func row(_ name: String) -> (ServiceMachine, TimerToken?) {
        func fresh(_ policy: RestartPolicy = .onFailure, notify: Bool = false) -> ServiceMachine {
            ServiceMachine(
                restartPolicy: policy,
                backoff: BackoffPolicy(initialDelay: .seconds(1), maximumDelay: .seconds(8), resetAfter: .seconds(10), startLimit: 100),
                stopTimeout: .seconds(5), readyTimeout: notify ? .seconds(30) : nil
            )
        }
        func token(_ reaction: Reaction) -> TimerToken? {
            reaction.actions.compactMap { if case .startTimer(let token, _) = $0 { token } else { nil } }.last
        }
        var m = fresh()
        switch name {
        case "idle": return (m, nil)
        case "starting":
            _ = m.handle(.command(.start), at: t0)
            return (m, nil)
        case "waitingForReady":
            m = fresh(notify: true)
            _ = m.handle(.command(.start), at: t0)
            let timer = token(m.handle(.spawned(pid: mainPid), at: t0))
            return (m, timer)
        case "running":
            _ = m.handle(.command(.start), at: t0)
            _ = m.handle(.spawned(pid: mainPid), at: t0)
            return (m, nil)
        case "stopping":
            _ = m.handle(.command(.start), at: t0)
            _ = m.handle(.spawned(pid: mainPid), at: t0)
            let timer = token(m.handle(.command(.stop), at: t0))
            return (m, timer)
        case "stoppingToRestart":
            _ = m.handle(.command(.start), at: t0)
            _ = m.handle(.spawned(pid: mainPid), at: t0)
            let timer = token(m.handle(.command(.restart), at: t0))
            return (m, timer)
        case "stoppingBeforeSpawned":
            _ = m.handle(.command(.start), at: t0)
            _ = m.handle(.command(.stop), at: t0)
            return (m, nil)
        case "backoff":
            _ = m.handle(.command(.start), at: t0)
            _ = m.handle(.spawned(pid: mainPid), at: t0)
            let timer = token(m.handle(.mainExited(pid: m.state.mainPid ?? 0, .exited(1)), at: t0))
            return (m, timer)
        case "exited", "failed":
            m = fresh(.never)
            _ = m.handle(.command(.start), at: t0)
            _ = m.handle(.spawned(pid: mainPid), at: t0)
            _ = m.handle(.mainExited(pid: m.state.mainPid ?? 0, .exited(name == "exited" ? 0 : 1)), at: t0)
            return (m, nil)
        default: fatalError("no row \(name)")
        }
    }

    static func event(_ column: Column, timer: TimerToken?) -> ServiceEvent {
        switch column {
        case .start: .command(.start)
        case .stop: .command(.stop)
        case .restart: .command(.restart)
        case .signal: .command(.signal(10, to: .mainProcess))
        case .spawned: .spawned(pid: 9)
        case .spawnFailed: .spawnFailed(SpawnFailure("execve /x: No such file or directory"))
        case .mainExited: .mainExited(pid: mainPid, .exited(1))
        // The timer the state waits for, or one that is stale.
        case .timer: .timerFired(timer ?? TimerToken(kind: .restartDelay, generation: 999))
        case .ready: .ready
        case .guardVerdict: .anonLimitExceeded(pid: mainPid)
        case .guardVerdictOtherRun: .anonLimitExceeded(pid: mainPid + 1)
        // A late exit of an earlier run's process (a spawn that failed after its child existed).
        case .mainExitedOtherRun: .mainExited(pid: mainPid + 1, .exited(127))
        }
    }

    // Columns: start, stop, restart, signal, spawned, spawnFailed, mainExited, timer, ready, guard, guard (other run),
    // main exited (other run)
    static let table: [String: [Cell]] = [
        "idle": [.to(.starting), .ignored(.notRunning), .to(.starting), .ignored(.notRunning), .ignored(.noSuchProcess), .ignored(.noSuchProcess),
                 .ignored(.noSuchProcess), .ignored(.staleTimer), .ignored(.notRunning), .ignored(.notRunning), .ignored(.notRunning), .ignored(.noSuchProcess)],
        "starting": [.ignored(.alreadyStarting), .to(.stopping), .ignored(.alreadyStarting), .ignored(.notRunning), .to(.running), .to(.backoff),
                     .ignored(.noSuchProcess), .ignored(.staleTimer), .ignored(.notRunning), .ignored(.notRunning), .ignored(.notRunning), .ignored(.noSuchProcess)],
        "waitingForReady": [.ignored(.alreadyStarting), .to(.stopping), .to(.stopping), .to(.starting), .ignored(.noSuchProcess), .ignored(.noSuchProcess),
                            .to(.backoff), .to(.stopping), .to(.running), .ignored(.notReady), .ignored(.notReady), .ignored(.noSuchProcess)],
        "running": [.ignored(.alreadyRunning), .to(.stopping), .to(.stopping), .to(.running), .ignored(.noSuchProcess), .ignored(.noSuchProcess),
                    .to(.backoff), .ignored(.staleTimer), .ignored(.alreadyRunning), .to(.stopping), .ignored(.staleRun), .ignored(.noSuchProcess)],
        "stopping": [.to(.stopping), .ignored(.alreadyStopping), .to(.stopping), .to(.stopping), .ignored(.noSuchProcess),
                     .ignored(.noSuchProcess), .to(.idle), .to(.stopping), .ignored(.alreadyStopping), .ignored(.alreadyStopping), .ignored(.alreadyStopping), .ignored(.noSuchProcess)],
        "stoppingToRestart": [.ignored(.alreadyRestarting), .to(.stopping), .ignored(.alreadyRestarting), .to(.stopping), .ignored(.noSuchProcess),
                              .ignored(.noSuchProcess), .to(.starting), .to(.stopping), .ignored(.alreadyStopping), .ignored(.alreadyStopping),
                              .ignored(.alreadyStopping), .ignored(.noSuchProcess)],
        "stoppingBeforeSpawned": [.to(.stopping), .ignored(.alreadyStopping), .to(.stopping), .ignored(.notRunning), .to(.stopping),
                                  .to(.idle), .ignored(.noSuchProcess), .ignored(.staleTimer), .ignored(.alreadyStopping), .ignored(.alreadyStopping),
                                  .ignored(.alreadyStopping), .ignored(.noSuchProcess)],
        "backoff": [.to(.starting), .to(.idle), .to(.starting), .ignored(.notRunning), .ignored(.noSuchProcess), .ignored(.noSuchProcess),
                    .ignored(.noSuchProcess), .to(.starting), .ignored(.notRunning), .ignored(.notRunning), .ignored(.notRunning), .ignored(.noSuchProcess)],
        "exited": [.to(.starting), .ignored(.notRunning), .to(.starting), .ignored(.notRunning), .ignored(.noSuchProcess), .ignored(.noSuchProcess),
                   .ignored(.noSuchProcess), .ignored(.staleTimer), .ignored(.notRunning), .ignored(.notRunning), .ignored(.notRunning), .ignored(.noSuchProcess)],
        "failed": [.to(.starting), .ignored(.notRunning), .to(.starting), .ignored(.notRunning), .ignored(.noSuchProcess), .ignored(.noSuchProcess),
                   .ignored(.noSuchProcess), .ignored(.staleTimer), .ignored(.notRunning), .ignored(.notRunning), .ignored(.notRunning), .ignored(.noSuchProcess)],
    ]

    @Test("every row is reached and every cell answered as the table says", arguments: table.keys.sorted())
    func row(name: String) {
        let cells = Self.table[name]!
        #expect(cells.count == Column.allCases.count)
        let (start, _) = Self.row(name)
        #expect(name.hasPrefix(start.state.phase.rawValue) || (name == "waitingForReady" && start.state.phase == .starting),
                "row \(name) starts in \(start.state)")
        for (column, expected) in zip(Column.allCases, cells) {
            var (m, timer) = Self.row(name)
            let before = m.state
            let reaction = m.handle(Self.event(column, timer: timer), at: Self.t0 + .seconds(1))
            let got: Cell = switch reaction {
            case .ignore(let reason): .ignored(reason)
            case .perform: .to(m.state.phase)
            }
            #expect(got == expected, "\(name) × \(column.rawValue)")
            if case .ignore = reaction { #expect(m.state == before, "\(name) × \(column.rawValue) ignored but changed the state") }
        }
    }

    @Test("the failure reasons are typed and read as before")
    func failureReasons() {
        #expect(FailureReason.ended(.exited(.exited(3))).description == "exit status 3")
        #expect(FailureReason.startLimit(runs: 3, shorterThan: .seconds(5), last: .spawnFailed(SpawnFailure("execve /x: No such file or directory"))).description
                == "start limit reached: 3 runs shorter than 5.0 seconds (last: execve /x: No such file or directory)")
        #expect(FailureReason.noReadyNotification(within: .seconds(2)).description == "no READY=1 within 2.0 seconds")
    }

    @Test("an operator's signal goes to the running pid; a stop overtaking a spawn stops what it started")
    func signalAndOvertakenSpawn() {
        var (m, _) = Self.row("running")
        #expect(m.act(.command(.signal(1, to: .wholeCgroup)), at: Self.t0) == [.sendSignal(1, to: .wholeCgroup, pid: Self.mainPid)])
        var (spawning, _) = Self.row("stoppingBeforeSpawned")
        #expect(spawning.act(.spawned(pid: 42), at: Self.t0).first == .sendStopSignal(pid: 42))
    }
}
