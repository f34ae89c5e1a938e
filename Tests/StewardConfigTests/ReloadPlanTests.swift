import StewardConfig
import StewardCore
import Testing

@Suite("Reload plan")
struct ReloadPlanTests {
    static func service(_ name: String, _ command: String = "/bin/true") -> ServiceConfiguration {
        ServiceConfiguration(name: name, command: [command])
    }

    struct Row: Sendable, CustomStringConvertible {
        var description: String
        var old: [ServiceConfiguration]
        var new: [ServiceConfiguration]
        var added: [String] = [], removed: [String] = [], changed: [String] = [], unchanged: [String] = []
    }

    static let rows: [Row] = [
        Row(description: "same file", old: [service("a")], new: [service("a")], unchanged: ["a"]),
        Row(description: "a command changed", old: [service("a")], new: [service("a", "/bin/false")], changed: ["a"]),
        Row(description: "a service added", old: [service("a")], new: [service("a"), service("b")], added: ["b"], unchanged: ["a"]),
        Row(description: "a service removed", old: [service("a"), service("b")], new: [service("b")], removed: ["a"], unchanged: ["b"]),
        Row(description: "all four at once", old: [service("keep"), service("change"), service("gone")],
            new: [service("keep"), service("change", "/bin/false"), service("new")],
            added: ["new"], removed: ["gone"], changed: ["change"], unchanged: ["keep"]),
        Row(description: "everything removed", old: [service("a"), service("b")], new: [], removed: ["a", "b"]),
    ]

    @Test("each service is added, removed, changed or unchanged", arguments: rows)
    func plan(row: Row) {
        let plan = ReloadPlan(from: StewardConfiguration(services: row.old), to: StewardConfiguration(services: row.new))
        #expect(plan.added == row.added)
        #expect(plan.removed == row.removed)
        #expect(plan.changed == row.changed)
        #expect(plan.unchanged == row.unchanged)
        #expect(plan.toStop == row.removed + row.changed)
        #expect(plan.toStart == row.added + row.changed)
        #expect(plan.needsStewardRestart.isEmpty)
        #expect(plan.configuration.services == StewardConfiguration(services: row.new).services)
    }

    @Test("the cgroup root, the metrics listener and the control socket keep their old values and are named")
    func settingsThatNeedARestart() {
        let old = StewardConfiguration(metricsListen: ListenAddress(host: "127.0.0.1", port: 9464), cgroupRoot: "a", services: [Self.service("x")])
        var limits = MetricsListenLimits()
        limits.maxConnections = 7
        let new = StewardConfiguration(
            metricsListen: ListenAddress(host: "127.0.0.1", port: 1), metricsLimits: limits, cgroupRoot: "b",
            control: ControlSettings(socket: "/run/other.sock"), services: [Self.service("x")]
        )
        let plan = ReloadPlan(from: old, to: new)
        #expect(plan.needsStewardRestart == ["cgroup.root", "metrics.listen", "metrics limits", "control"])
        #expect(plan.configuration.control == ControlSettings())
        #expect(plan.configuration.cgroupRoot == "a")
        #expect(plan.configuration.metricsListen == old.metricsListen)
        #expect(plan.configuration.metricsLimits == MetricsListenLimits())
        #expect(plan.unchanged == ["x"])
        #expect("\(plan)" == "no service changed")
    }
}
