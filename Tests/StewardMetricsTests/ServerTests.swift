import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Glibc
import Logging
import ServiceLifecycle
import StewardConfig
import StewardEngine
import StewardMetrics
@testable import StewardServer
import StewardTestSupport
import Testing

@Suite("HTTP endpoint", .tags(.realCgroups))
struct ServerTests {
    @Test("/metrics, /services/<name>/metrics, /healthz, content negotiation, 404 for an unknown service")
    func routes() async throws {
        try await withSupervisor([service("web", "echo ready; exec sleep 1000"), service("db", "echo ready; exec sleep 1000")]) { supervisor, lines in
            try await withDeadline("ready") { await lines.wait(for: "ready", from: "web") }
            let base = try await withServer(supervisor) { base in
                let all = try await get(base + "/metrics")
                #expect(all.status == 200)
                #expect(all.contentType == "text/plain; version=0.0.4; charset=utf-8")
                #expect(all.body.contains("steward_service_up{service=\"web\"} 1\n"))
                #expect(all.body.contains("steward_service_up{service=\"db\"} "))
                #expect(all.body.contains("\nprocess_resident_memory_bytes "))
                #expect(!all.body.contains("# EOF"))

                let open = try await get(base + "/metrics", accept: "application/openmetrics-text; version=1.0.0")
                #expect(open.contentType == "application/openmetrics-text; version=1.0.0; charset=utf-8")
                #expect(open.body.hasSuffix("\n# EOF\n"))
                #expect(open.body.contains("# TYPE steward_service_restarts counter\n"))

                let one = try await get(base + "/services/web/metrics")
                #expect(one.status == 200)
                let samples = one.body.split(separator: "\n").filter { !$0.hasPrefix("#") }
                #expect(!samples.isEmpty)
                #expect(samples.allSatisfy { $0.contains("service=\"web\"") }, "only web's samples")
                #expect(try MetricValues(parsingText: one.body).value("steward_service_memory_anon_bytes", ["service": "web"]) != nil)

                let unknown = try await get(base + "/services/nope/metrics")
                #expect(unknown.status == 404)
                #expect(unknown.body == "unknown service \"nope\"\n")

                let health = try await get(base + "/healthz")
                #expect(health.status == 200 && health.body == "ok\n")
            }
            await #expect(throws: (any Error).self, "the server stopped listening") { try await get(base + "/healthz") }
        }
    }

    @Test("a real Prometheus scrapes Steward and answers a query for steward_service_memory_anon_bytes")
    func prometheus() async throws {
        let perl = #"my $n = 20 << 20; my $x = "a" x $n; $| = 1; print "ready\n"; sleep 1000"#
        let holder = ServiceConfiguration(name: "holder", command: ["perl", "-e", perl], restart: .never)
        try await withSupervisor([holder]) { supervisor, lines in
            try await withDeadline("ready") { await lines.wait(for: "ready", from: "holder") }
            _ = try await withServer(supervisor) { base in
                let prometheus = try PrometheusServer(scraping: String(base.dropFirst("http://".count)))
                defer { prometheus.stop() }
                let anon = try await withDeadline("Prometheus to have scraped the anon metric", limit: .seconds(90)) {
                    try await prometheus.waitForSample(query: "steward_service_memory_anon_bytes") { $0["service"] == "holder" }
                }
                #expect(anon >= 20 * mebibyte && anon <= 30 * mebibyte, "\(anon / mebibyte) MiB")
                // A text Prometheus cannot parse makes every scrape up 0; one that timed out on a
                // loaded machine is up 0 too, so the question is whether a scrape succeeded.
                let up = try await withDeadline("Prometheus to answer for up", limit: .seconds(90)) {
                    try await prometheus.waitForSample(query: "max_over_time(up%5B1h%5D)") { $0["job"] == "steward" }
                }
                #expect(up == 1, "Prometheus parsed a scrape")
            }
        }
    }
}

/// Serves `supervisor`'s metrics on 127.0.0.1 on a port the kernel picks while `body` runs, then shuts
/// the server down gracefully. Returns the base URL it served on.
func withServer(_ supervisor: Supervisor, _ body: (String) async throws -> Void) async throws -> String {
    let (ports, announce) = AsyncStream.makeStream(of: Int.self)
    let logger = Logger(label: "steward-metrics-test")
    let server = MetricsServer(
        collector: MetricsCollector(supervisor: supervisor), address: ListenAddress(host: "127.0.0.1", port: 0), logger: logger,
        onListening: { announce.yield($0) }
    )
    let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [server], logger: logger))
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask {
            defer { announce.finish() }
            try await group.run()
        }
        var port: Int?
        for await announced in ports {
            port = announced
            break
        }
        guard let port else {
            try await tasks.waitForAll()
            throw CancellationError()
        }
        let base = "http://127.0.0.1:\(port)"
        do {
            try await body(base)
        } catch {
            await group.triggerGracefulShutdown()
            throw error
        }
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
        return base
    }
}

struct HTTPAnswer {
    var status: Int
    var contentType: String?
    var body: String
}

func get(_ url: String, accept: String? = nil) async throws -> HTTPAnswer {
    var request = URLRequest(url: URL(string: url)!)
    if let accept { request.setValue(accept, forHTTPHeaderField: "Accept") }
    let (data, response) = try await URLSession.shared.data(for: request)
    let http = response as? HTTPURLResponse
    return HTTPAnswer(status: http?.statusCode ?? 0, contentType: http?.value(forHTTPHeaderField: "Content-Type"), body: String(decoding: data, as: UTF8.self))
}

/// The Debian package's Prometheus on 127.0.0.1, scraping one target every second, with its
/// configuration and storage in a temporary directory that `stop()` removes.
final class PrometheusServer: Sendable {
    let process: Process
    let directory: URL
    let port: Int

    init(scraping target: String) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("steward-prometheus-\(UInt32.random(in: 0 ... .max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false)
        // Every second, and allowed that long (stretched on slow guests): a scrape over its timeout
        // is up 0, and how long one takes is the machine's business, not this test's.
        let interval = "\(Int(testTimeScale.rounded(.up)))s"
        let config = """
            global:
              scrape_interval: \(interval)
              scrape_timeout: \(interval)
            scrape_configs:
              - job_name: steward
                static_configs:
                  - targets: ["\(target)"]
            """
        try config.write(to: directory.appendingPathComponent("prometheus.yml"), atomically: true, encoding: .utf8)
        port = try freeLoopbackPort()
        #expect(FileManager.default.createFile(atPath: directory.appendingPathComponent("log").path, contents: nil))
        let log = try FileHandle(forWritingTo: directory.appendingPathComponent("log"))
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/prometheus")
        process.arguments = [
            "--config.file=\(directory.path)/prometheus.yml", "--storage.tsdb.path=\(directory.path)/data",
            "--web.listen-address=127.0.0.1:\(port)", "--log.level=warn",
        ]
        process.standardOutput = log
        process.standardError = log
        try process.run()
    }

    /// Polls the query API (an external server: there is no event to await) until a sample whose
    /// labels satisfy `matching` is there; returns its value.
    func waitForSample(query: String, matching: @Sendable ([String: String]) -> Bool) async throws -> Double {
        struct Answer: Decodable {
            struct Data: Decodable {
                struct Result: Decodable {
                    var metric: [String: String]
                    var value: [Value]
                }
                var result: [Result]
            }
            enum Value: Decodable {
                case time(Double), text(String)
                init(from decoder: any Decoder) throws {
                    let container = try decoder.singleValueContainer()
                    if let time = try? container.decode(Double.self) { self = .time(time) } else { self = .text(try container.decode(String.self)) }
                }
            }
            var status: String
            var data: Data
        }
        while true {
            // curl with its own timeout: URLSession on Linux may not return when its task is
            // cancelled at the deadline.
            if let body = try? Self.curl("http://127.0.0.1:\(port)/api/v1/query?query=" + query),
               let decoded = try? JSONDecoder().decode(Answer.self, from: body),
               let sample = decoded.data.result.first(where: { matching($0.metric) }),
               case .text(let text)? = sample.value.last, let value = Double(text) {
                return value
            }
            try await Task.sleep(for: .milliseconds(250))
        }
    }

    /// The body of a 2xx answer (curl fails on others), or nil. Only stdout is read: the engine's
    /// reaper in this process may take curl's exit status.
    static func curl(_ url: String) throws -> Data? {
        let curl = Process()
        curl.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        curl.arguments = ["--silent", "--fail", "--max-time", "2", url]
        let out = Pipe()
        curl.standardOutput = out
        try curl.run()
        let body = out.fileHandleForReading.readDataToEndOfFile()
        return body.isEmpty ? nil : body
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: directory)
    }
}

