/// What a reload does, decided from the configuration in force and the new one alone: services only
/// in the new file start, services only in the old one stop, services whose settings changed are
/// restarted with the new ones, and the rest are left alone. Settings that only a restart of Steward
/// applies (the cgroup root, the metrics listener, the control socket) keep their old values and are named.
public struct ReloadPlan: Sendable, Equatable, CustomStringConvertible {
    public var added: [String] = []
    public var removed: [String] = []
    public var changed: [String] = []
    public var unchanged: [String] = []
    /// Settings whose new values take effect only when Steward restarts.
    public var needsStewardRestart: [String] = []
    /// The configuration in force once the plan is carried out.
    public var configuration: StewardConfiguration

    public init(from old: StewardConfiguration, to new: StewardConfiguration) {
        var kept = new
        if new.cgroupRoot != old.cgroupRoot { needsStewardRestart.append("cgroup.root") }
        if new.metricsListen != old.metricsListen { needsStewardRestart.append("metrics.listen") }
        if new.metricsLimits != old.metricsLimits { needsStewardRestart.append("metrics limits") }
        if new.control != old.control { needsStewardRestart.append("control") }
        kept.cgroupRoot = old.cgroupRoot
        kept.metricsListen = old.metricsListen
        kept.metricsLimits = old.metricsLimits
        kept.control = old.control
        configuration = kept
        let oldServices = Dictionary(old.services.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let newServices = Dictionary(new.services.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for (name, service) in newServices.sorted(by: { $0.key < $1.key }) {
            switch oldServices[name] {
            case nil: added.append(name)
            case service: unchanged.append(name)
            default: changed.append(name)
            }
        }
        removed = oldServices.keys.filter { newServices[$0] == nil }.sorted()
    }

    /// The services whose runners are replaced: stopped (removed, changed) and started anew (added, changed).
    public var toStop: [String] { removed + changed }
    public var toStart: [String] { added + changed }

    public var description: String {
        let parts = [("added", added), ("removed", removed), ("restarted", changed)].filter { !$1.isEmpty }
            .map { "\($0): \($1.joined(separator: ", "))" }
        return parts.isEmpty ? "no service changed" : parts.joined(separator: "; ")
    }
}
