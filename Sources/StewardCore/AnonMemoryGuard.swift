/// Decides when a service's anonymous memory has stayed above its limit for long enough to restart
/// it. Pure: the caller samples the cgroup and passes the value and the time.
///
/// With samples every P and a window W that is a multiple of P, a crossing at time c is acted on
/// at the latest at c + W + P: the first sample above the limit comes at most P after c, and the
/// window is counted from that sample.
public struct AnonMemoryGuard: Sendable {
    public let limitBytes: UInt64
    public let window: Duration
    /// The first sample of the current run of samples above the limit.
    public private(set) var aboveSince: ContinuousClock.Instant?

    public enum Decision: Sendable, Equatable {
        case withinLimit
        /// Above the limit, not yet for the whole window.
        case above(since: ContinuousClock.Instant)
        /// Above the limit for the whole window: restart. The guard starts counting afresh.
        case exceeded(for: Duration)
    }

    public init(limitBytes: UInt64, window: Duration) {
        self.limitBytes = limitBytes
        self.window = window
    }

    public mutating func observe(_ bytes: UInt64, at now: ContinuousClock.Instant) -> Decision {
        guard bytes > limitBytes else {
            aboveSince = nil
            return .withinLimit
        }
        let since = aboveSince ?? now
        aboveSince = since
        guard now - since >= window else { return .above(since: since) }
        aboveSince = nil
        return .exceeded(for: now - since)
    }

    /// Forgets the current run above the limit (the service was restarted or stopped).
    public mutating func reset() {
        aboveSince = nil
    }
}
