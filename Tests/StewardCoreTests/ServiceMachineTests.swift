import Testing
@testable import StewardCore

extension ServiceMachine {
    /// The actions of `event`'s reaction (none when it was ignored).
    mutating func act(_ event: ServiceEvent, at now: ContinuousClock.Instant) -> [ServiceAction] {
        handle(event, at: now).actions
    }
}

@Suite("Service state machine")
struct ServiceMachineTests {
    let t0 = ContinuousClock.now
    let backoff = BackoffPolicy(initialDelay: .milliseconds(100), maximumDelay: .milliseconds(400), resetAfter: .seconds(10), startLimit: 4)

    func machine(_ policy: RestartPolicy = .always) -> ServiceMachine {
        ServiceMachine(restartPolicy: policy, backoff: backoff, stopTimeout: .seconds(5))
    }

    /// Runs a machine to `running` with pid 100 at t0.
    func running(_ policy: RestartPolicy = .always) -> ServiceMachine {
        var m = machine(policy)
        #expect(m.act(.command(.start), at: t0) == [.spawn])
        #expect(m.act(.spawned(pid: 100), at: t0) == [])
        return m
    }

    func timers(_ actions: [ServiceAction]) -> [(TimerToken, Duration)] {
        actions.compactMap { if case .startTimer(let token, let delay) = $0 { (token, delay) } else { nil } }
    }

    @Test("restart decisions by policy and exit status", arguments: [
        (RestartPolicy.always, StewardCore.ExitStatus.exited(0), true),
        (.always, .exited(1), true),
        (.onFailure, .exited(0), false),
        (.onFailure, .exited(2), true),
        (.onFailure, .signaled(11), true),
        (.never, .exited(1), false),
        (.never, .exited(0), false),
    ])
    func policy(policy: RestartPolicy, status: StewardCore.ExitStatus, restarts: Bool) {
        var m = running(policy)
        let actions = m.act(.mainExited(pid: m.state.mainPid ?? 0, status), at: t0 + .seconds(1))
        #expect(actions.first == .killCgroup, "leftover processes always die with the main process")
        if restarts {
            guard case .backoff = m.state else { Issue.record("expected backoff, got \(m.state)"); return }
            #expect(timers(actions).map(\.1) == [.milliseconds(100)])
        } else {
            #expect(m.state == (status.isSuccess ? .exited(status) : .failed(.ended(.exited(status)))))
            #expect(actions.contains(.removeCgroup))
        }
    }

    @Test("delays double up to the cap; a long run resets them; the start limit ends in failed")
    func backoffAndLimit() {
        var m = running()
        var now = t0
        var delays: [Duration] = []
        for run in 1 ... 3 {
            now += .milliseconds(50)
            let actions = m.act(.mainExited(pid: m.state.mainPid ?? 0, .exited(1)), at: now)
            delays += timers(actions).map(\.1)
            let token = timers(actions)[0].0
            #expect(m.act(.timerFired(token), at: now) == [.spawn])
            #expect(m.act(.spawned(pid: Int32(100 + run)), at: now) == [])
        }
        #expect(delays == [.milliseconds(100), .milliseconds(200), .milliseconds(400)])
        // The fourth quick exit reaches startLimit = 4.
        let actions = m.act(.mainExited(pid: m.state.mainPid ?? 0, .exited(1)), at: now + .milliseconds(50))
        #expect(m.state == .failed(.startLimit(runs: 4, shorterThan: .seconds(10), last: .exited(.exited(1)))))
        #expect(actions.contains(.removeCgroup))
        #expect(m.restarts[.exit] == 3)

        // Started again by hand, a run longer than resetAfter starts the delays afresh.
        _ = m.act(.command(.start), at: now)
        _ = m.act(.spawned(pid: 200), at: now)
        let afterLongRun = m.act(.mainExited(pid: m.state.mainPid ?? 0, .signaled(9)), at: now + .seconds(11))
        #expect(timers(afterLongRun).map(\.1) == [.milliseconds(100)])
        #expect(m.restarts[.signal] == 1)
    }

    @Test("stop: signal, then on timeout kill the cgroup; the exit settles it idle")
    func stopSequence() {
        var m = running()
        let stopActions = m.act(.command(.stop), at: t0)
        #expect(stopActions.first == .sendStopSignal(pid: 100))
        let (token, delay) = timers(stopActions)[0]
        #expect(delay == .seconds(5))
        #expect(m.handle(.command(.stop), at: t0) == .ignore(.alreadyStopping), "a second stop changes nothing")
        let timeout = m.act(.timerFired(token), at: t0 + .seconds(5))
        #expect(timeout.contains(.killCgroup))
        let exit = m.act(.mainExited(pid: m.state.mainPid ?? 0, .signaled(9)), at: t0 + .seconds(5))
        #expect(exit == [.killCgroup, .removeCgroup])
        #expect(m.state == .idle)
        #expect(m.restarts.isEmpty, "a requested stop is not a restart")
    }

    @Test("a stale timer from an earlier stop does nothing")
    func staleTimer() {
        var m = running()
        let (token, _) = timers(m.act(.command(.stop), at: t0))[0]
        _ = m.act(.mainExited(pid: m.state.mainPid ?? 0, .signaled(15)), at: t0)
        _ = m.act(.command(.start), at: t0)
        _ = m.act(.spawned(pid: 101), at: t0)
        #expect(m.handle(.timerFired(token), at: t0 + .seconds(5)) == .ignore(.staleTimer))
        #expect(m.state == .running(pid: 101, since: t0))
    }

    @Test("a requested restart stops then starts, counted by reason")
    func restartRequest() {
        var m = running()
        #expect(m.act(.command(.restart), at: t0).first == .sendStopSignal(pid: 100))
        let actions = m.act(.mainExited(pid: m.state.mainPid ?? 0, .signaled(15)), at: t0 + .seconds(1))
        #expect(actions.last == .spawn)
        #expect(m.restarts[.manual] == 1)

        var guarded = running()
        _ = guarded.act(.anonLimitExceeded(pid: 100), at: t0)
        let afterStop = guarded.act(.mainExited(pid: guarded.state.mainPid ?? 0, .signaled(15)), at: t0 + .seconds(1))
        #expect(timers(afterStop).count == 1, "memory restarts go through the crash backoff")
        #expect(guarded.restarts[.anonMemory] == 1)
    }

    @Test("stop during backoff settles at once; stop during a spawn takes effect when it lands")
    func stopInOtherStates() {
        var m = running()
        _ = m.act(.mainExited(pid: m.state.mainPid ?? 0, .exited(1)), at: t0)
        #expect(m.act(.command(.stop), at: t0) == [.removeCgroup])
        #expect(m.state == .idle)

        var spawning = machine()
        _ = spawning.act(.command(.start), at: t0)
        #expect(spawning.act(.command(.stop), at: t0).isEmpty)
        #expect(spawning.act(.spawned(pid: 7), at: t0).first == .sendStopSignal(pid: 7))
    }
}

@Suite("Line splitter")
struct LineSplitterTests {
    @Test("lines across chunks, and an endless line cut into bounded pieces")
    func splitting() {
        var splitter = LineSplitter(maximumLineBytes: 4)
        #expect(splitter.feed(Array("ab".utf8)).isEmpty)
        #expect(splitter.feed(Array("c\nd".utf8)) == [Array("abc".utf8)])
        #expect(splitter.feed(Array("efghij".utf8)) == [Array("defg".utf8)])
        #expect(splitter.pendingByteCount == 3)
        #expect(splitter.feed(Array("\n\n".utf8)) == [Array("hij".utf8), []])
        #expect(splitter.feed(Array("tail".utf8)) == [Array("tail".utf8)])
        #expect(splitter.finish() == nil)
        _ = splitter.feed(Array("xy".utf8))
        #expect(splitter.finish() == Array("xy".utf8))
    }
}
