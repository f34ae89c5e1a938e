import StewardCore

/// Who hears about Steward's own lifecycle: systemd's sd_notify under Type=notify, or nobody.
public protocol LifecycleObserver: Sendable {
    /// How often to prove liveness (systemd's WatchdogSec= / 2), or nil for no pings.
    var watchdogPingInterval: Duration? { get }
    /// Every autostart service has been started.
    func ready(status: String)
    /// A one-line summary changed ("3 running, 1 backing off").
    func status(_ status: String)
    func reloading()
    func stopping()
    func watchdogPing()
}

/// The observer when nothing listens.
public struct SilentLifecycleObserver: LifecycleObserver {
    public init() {}
    public var watchdogPingInterval: Duration? { nil }
    public func ready(status: String) {}
    public func status(_ status: String) {}
    public func reloading() {}
    public func stopping() {}
    public func watchdogPing() {}
}

extension Supervisor {
    /// "3 running, 1 backing off, 1 failed" — counts by state, in a fixed order.
    public static func statusLine(_ snapshots: [ServiceSnapshot]) -> String {
        var counts: [ServiceState.Phase: Int] = [:]
        for snapshot in snapshots { counts[snapshot.state.phase, default: 0] += 1 }
        let parts = ServiceState.Phase.allCases.compactMap { phase in
            counts[phase].map { "\($0) \(phase == .backoff ? "backing off" : phase.rawValue)" }
        }
        return parts.isEmpty ? "no services" : parts.joined(separator: ", ")
    }
}
