import CgroupFS
import StewardConfig
import StewardCore
import Synchronization

/// What the guard found: the run of `pid` stayed above its anon limit for the whole window.
struct AnonLimitVerdict: Sendable {
    var pid: Int32
    var anonBytes: UInt64
    var limitBytes: UInt64
    var aboveFor: Duration
}

/// The memory guard for every service: one task and one timer sample all guarded runs, each at its
/// own interval, reading anon (+ swap, + shmem if asked) through the service's reader and its kept
/// descriptors. A run that stayed above its limit for the window gets one verdict and is no longer
/// watched; its service decides what to do (a restart, unless it is stopping already).
final class MemorySampler: Sendable {
    /// One watched run; give it back with `unwatch`.
    struct Watch: Sendable, Hashable {
        let id: UInt64
        let pid: Int32
    }

    private struct Entry {
        var reader: CgroupReader
        var memory: MemoryGuardConfiguration
        var decision: AnonMemoryGuard
        var due: ContinuousClock.Instant
        var onExceeded: @Sendable (AnonLimitVerdict) -> Void
    }

    private struct State {
        var entries: [Watch: Entry] = [:]
        var nextID: UInt64 = 0
    }

    private let state = Mutex(State())
    /// Rung when a watch is added, so a sleeping loop looks at the new run's due time.
    private let doorbell = Watched(0)
    /// Samples fall on multiples of their interval from here, so runs with the same interval are
    /// read in the same wake-up however their starts were spread.
    private let epoch = ContinuousClock.now

    init() {}

    /// The first multiple of `interval` from the epoch after `now`.
    private func nextTick(after now: ContinuousClock.Instant, every interval: Duration) -> ContinuousClock.Instant {
        let elapsed = now - epoch
        return epoch + interval * ((elapsed / interval).rounded(.down) + 1)
    }

    /// Starts sampling a run; its first sample is at most one interval away.
    func watch(pid: Int32, reader: CgroupReader, limitBytes: UInt64, memory: MemoryGuardConfiguration,
               onExceeded: @escaping @Sendable (AnonLimitVerdict) -> Void) -> Watch {
        let watch = state.withLock { state in
            state.nextID += 1
            let watch = Watch(id: state.nextID, pid: pid)
            state.entries[watch] = Entry(
                reader: reader, memory: memory, decision: AnonMemoryGuard(limitBytes: limitBytes, window: memory.anonLimitFor),
                due: nextTick(after: .now, every: memory.sampleInterval), onExceeded: onExceeded
            )
            return watch
        }
        doorbell.update { $0 += 1 }
        return watch
    }

    func unwatch(_ watch: Watch) {
        _ = state.withLock { $0.entries.removeValue(forKey: watch) }
    }


    /// Samples until cancelled.
    func run() async {
        while !Task.isCancelled {
            let rung = doorbell.value
            let next = sampleDue(at: .now)
            if let next {
                await sleep(until: next, unlessRungAfter: rung)
            } else {
                _ = try? await doorbell.wait { $0 != rung }
            }
        }
    }

    /// Samples every run that is due; returns when the next one will be.
    private func sampleDue(at now: ContinuousClock.Instant) -> ContinuousClock.Instant? {
        let due = state.withLock { state in state.entries.filter { $0.value.due <= now } }
        var verdicts: [Watch: (Entry, AnonLimitVerdict)] = [:]
        var decisions: [Watch: AnonMemoryGuard] = [:]
        for (watch, entry) in due {
            var decision = entry.decision
            if let classes = entry.reader.memory() {
                let bytes = classes.guardedAnonBytes(includingShmem: entry.memory.includesShmem)
                if case .exceeded(let duration) = decision.observe(bytes, at: now) {
                    verdicts[watch] = (entry, AnonLimitVerdict(pid: watch.pid, anonBytes: bytes, limitBytes: decision.limitBytes, aboveFor: duration))
                }
            }
            decisions[watch] = decision
        }
        let next = state.withLock { state -> ContinuousClock.Instant? in
            for (watch, decision) in decisions {
                guard var entry = state.entries[watch] else { continue }  // unwatched meanwhile
                if verdicts[watch] != nil {
                    state.entries[watch] = nil
                    continue
                }
                entry.decision = decision
                // After a stall, the next tick from now: no burst of catching up.
                entry.due = nextTick(after: now, every: entry.memory.sampleInterval)
                state.entries[watch] = entry
            }
            return state.entries.values.map(\.due).min()
        }
        for (entry, verdict) in verdicts.values { entry.onExceeded(verdict) }
        return next
    }

    private func sleep(until deadline: ContinuousClock.Instant, unlessRungAfter rung: Int) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(until: deadline) }
            group.addTask { _ = try? await self.doorbell.wait { $0 != rung } }
            await group.next()
            group.cancelAll()
        }
    }
}
