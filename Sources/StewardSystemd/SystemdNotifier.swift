import CSystemd
import Glibc
import StewardEngine

/// Tells systemd about Steward's state over $NOTIFY_SOCKET (Type=notify): READY=1 once every
/// autostart service was started, STATUS= with a one-line summary, RELOADING=1 / READY=1 around
/// a reload, STOPPING=1, and WATCHDOG=1 pings. Without $NOTIFY_SOCKET every call is a no-op.
public struct SystemdNotifier: LifecycleObserver {
    public init() {}

    public var isActive: Bool { getenv("NOTIFY_SOCKET") != nil }

    /// Half of WatchdogSec= when systemd asked for pings (WATCHDOG_USEC, for this pid).
    public var watchdogPingInterval: Duration? {
        var microseconds: UInt64 = 0
        guard sd_watchdog_enabled(0, &microseconds) > 0, microseconds > 0 else { return nil }
        return .microseconds(Int64(microseconds / 2))
    }

    public func ready(status: String) { send("READY=1\nSTATUS=\(status)") }
    public func status(_ status: String) { send("STATUS=\(status)") }
    public func reloading() { send("RELOADING=1\nMONOTONIC_USEC=\(Self.monotonicMicroseconds())") }
    public func stopping() { send("STOPPING=1\nSTATUS=stopping services") }
    public func watchdogPing() { send("WATCHDOG=1") }

    private func send(_ state: String) {
        guard isActive else { return }
        _ = sd_notify(0, state)
    }

    private static func monotonicMicroseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000
    }
}
