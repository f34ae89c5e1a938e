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
/// own interval (on a shared grid, so runs with the same interval are read in one wake-up), through
/// the service's reader and its kept descriptors. A run that stayed above its limit for the window
/// gets one verdict and is no longer watched; its service decides what to do (a restart, unless it is
/// stopping already, or the verdict is about an earlier run).
final class MemorySampler: Sendable {
    /// One watched run; give it back with `unwatch`.
    struct Watch: Sendable, Hashable {
        let id: UInt64
        let pid: Int32
    }

    private struct Guarded: Sendable {
        let reader: CgroupReader
        let limitBytes: UInt64
        let memory: MemoryGuardConfiguration
        let onExceeded: @Sendable (AnonLimitVerdict) -> Void
    }

    private struct Registry {
        var watched: [Watch: Guarded] = [:]
        var nextID: UInt64 = 0
    }

    private let registry = Mutex(Registry())
    /// Rung when a watch is added, so a sleeping loop looks at the new run's due time.
    private let doorbell = Watched(0)
    /// Samples fall on multiples of their interval from here.
    private let epoch = ContinuousClock.now

    init() {}

    /// Starts sampling a run; its first sample is at most one interval away.
    func watch(pid: Int32, reader: CgroupReader, limitBytes: UInt64, memory: MemoryGuardConfiguration,
               onExceeded: @escaping @Sendable (AnonLimitVerdict) -> Void) -> Watch {
        let watch = registry.withLock { registry in
            registry.nextID += 1
            let watch = Watch(id: registry.nextID, pid: pid)
            registry.watched[watch] = Guarded(reader: reader, limitBytes: limitBytes, memory: memory, onExceeded: onExceeded)
            return watch
        }
        doorbell.update { $0 += 1 }
        return watch
    }

    func unwatch(_ watch: Watch) {
        _ = registry.withLock { $0.watched.removeValue(forKey: watch) }
    }

    /// Samples until cancelled. Each run's window and due time live here, in the one task that
    /// samples, so a tick takes the lock only to look at who is watched.
    func run() async {
        var progress: [Watch: (decision: AnonMemoryGuard, due: ContinuousClock.Instant)] = [:]
        while !Task.isCancelled {
            let rung = doorbell.value
            let watched = registry.withLock { $0.watched }
            if progress.count > watched.count || progress.keys.contains(where: { watched[$0] == nil }) {
                progress = progress.filter { watched[$0.key] != nil }
            }
            let now = ContinuousClock.now
            var next: ContinuousClock.Instant?
            for (watch, guarded) in watched {
                let interval = guarded.memory.sampleInterval
                var (decision, due) = progress[watch]
                    ?? (AnonMemoryGuard(limitBytes: guarded.limitBytes, window: guarded.memory.anonLimitWindow), nextTick(after: now, every: interval))
                if due <= now {
                    if let bytes = guarded.reader.guardedBytes(limitBytes: guarded.limitBytes, includingShmem: guarded.memory.includesShmem),
                       case .exceeded(let duration) = decision.observe(bytes, at: now) {
                        unwatch(watch)
                        progress[watch] = nil
                        guarded.onExceeded(AnonLimitVerdict(pid: watch.pid, anonBytes: bytes, limitBytes: guarded.limitBytes, aboveFor: duration))
                        continue
                    }
                    // After a stall, the next tick from now: no burst of catching up.
                    due = nextTick(after: now, every: interval)
                }
                progress[watch] = (decision, due)
                next = min(next ?? due, due)
            }
            if let next {
                await sleep(until: next, unlessRungAfter: rung)
            } else {
                _ = try? await doorbell.wait { $0 != rung }
            }
        }
    }

    /// The first multiple of `interval` from the epoch after `now`.
    private func nextTick(after now: ContinuousClock.Instant, every interval: Duration) -> ContinuousClock.Instant {
        epoch + interval * ((now - epoch) / interval).rounded(.down) + interval
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
