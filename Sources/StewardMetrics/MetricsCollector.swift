import CgroupFS
import Logging
import StewardConfig
import StewardEngine
import Synchronization

/// The collector pattern: every scrape reads each service's cgroup files at that moment and joins
/// them with the supervisor's current view of the service. Nothing is kept between scrapes but open
/// file descriptors.
public final class MetricsCollector: Sendable {
    private let supervisor: Supervisor
    private let budget: DescriptorBudget
    /// One reader per service, made at its first scrape (services come and go with reloads).
    private let readers = Mutex<[String: CgroupReader]>([:])
    /// Constant for the life of the process, so read once.
    private let startTimeSeconds: Double?
    private let logger: Logger

    public init(supervisor: Supervisor, budget: DescriptorBudget = .quarterOfOpenFileLimit(), logger: Logger = Logger(label: "steward.metrics")) {
        self.supervisor = supervisor
        self.logger = logger
        self.budget = budget
        startTimeSeconds = ProcessReading.startTime()
    }

    /// Every service, Steward's own process, and the health of this scrape.
    public func collect() -> [MetricFamily] {
        let started = ContinuousClock.now
        let readings = readings(supervisor.snapshots)
        let elapsed = ContinuousClock.now - started
        let errors = readings.reduce(0) { $0 + ($1.cgroup?.errors.count ?? 0) }
        let scrape = [
            MetricFamily(
                "steward_scrape_duration_seconds", .gauge,
                help: "Time this scrape spent reading and parsing the services' cgroup files.",
                samples: [Sample(labels: [], value: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)]
            ),
            MetricFamily(
                "steward_scrape_errors", .gauge,
                help: "Cgroup files that could not be read or parsed in this scrape; their values are left out, never reported as 0 (steward inspect --cgroup names them).",
                samples: [Sample(labels: [], value: Double(errors))]
            ),
        ]
        return ServiceMetrics.families(readings) + ProcessReading.current(startTimeSeconds: startTimeSeconds).families + scrape
    }

    /// One service's families; nil for a name Steward does not supervise.
    public func collect(service name: String) -> [MetricFamily]? {
        supervisor.snapshot(of: name).map { ServiceMetrics.families(readings([$0])) }
    }

    /// Reads the cgroups of the services `earlier` shows. Their snapshots taken again after the reads
    /// tell whether a run's cgroup came or went meanwhile (see `ServiceSnapshot.cumulativeCounters`).
    private func readings(_ earlier: [ServiceSnapshot]) -> [ServiceReading] {
        // The configuration changes only with a reload: one look per scrape.
        let configurations = Dictionary(supervisor.configuration.services.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let samples = earlier.map(sample)
        let later = Dictionary(supervisor.snapshots.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        return zip(earlier, samples).map { earlier, sample in
            ServiceReading(
                snapshot: later[earlier.name] ?? earlier, readAfter: earlier,
                configuration: configurations[earlier.name], cgroup: sample
            )
        }
    }

    private func sample(_ snapshot: ServiceSnapshot) -> CgroupSample? {
        let reader = readers.withLock { readers in
            if let reader = readers[snapshot.name] { return reader }
            let reader = CgroupReader(cgroup: snapshot.cgroup, budget: budget)
            readers[snapshot.name] = reader
            return reader
        }
        let sample = reader.sample()
        for error in sample?.errors ?? [] {
            logger.debug("cannot read a cgroup file: \(error)", metadata: ["service": "\(snapshot.name)"])
        }
        return sample
    }
}
