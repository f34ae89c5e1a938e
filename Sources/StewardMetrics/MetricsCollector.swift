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
    /// Constant for the life of the process, so read once.
    private let startTimeSeconds: Double?
    private let logger: Logger

    public init(supervisor: Supervisor, logger: Logger = Logger(label: "steward.metrics")) {
        self.supervisor = supervisor
        self.logger = logger
        startTimeSeconds = ProcessReading.startTime()
    }

    /// Every service, Steward's own process, and the health of this scrape.
    public func collect() -> [MetricFamily] {
        let services = supervisor.services
        let started = ContinuousClock.now
        let reads = services.map { $0.reader.read() }
        let elapsed = ContinuousClock.now - started
        supervisor.recordCounters()
        let readings = zip(services, reads).map(reading)
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

    /// Every service's status (the status page's JSON, `steward ctl status --json`).
    public func status() -> StatusReport {
        StatusReport(of: supervisor)
    }

    /// One service's families; nil for a name Steward does not supervise.
    public func collect(service name: String) -> [MetricFamily]? {
        supervisor.service(named: name).map { service in
            let read = service.reader.read()
            supervisor.recordCounters()
            return ServiceMetrics.families([reading(service, read)])
        }
    }

    /// The service's cgroup as its reader read it, with its counters across runs (the reader's lock
    /// keeps them consistent), joined with the supervisor's view of it.
    private func reading(_ service: Supervisor.Service, _ read: CgroupReader.Reading) -> ServiceReading {
        for error in read.sample?.errors ?? [] {
            logger.debug("cannot read a cgroup file: \(error)", metadata: ["service": "\(service.snapshot.name)"])
        }
        return ServiceReading(snapshot: service.snapshot, configuration: service.configuration, reading: read)
    }
}
