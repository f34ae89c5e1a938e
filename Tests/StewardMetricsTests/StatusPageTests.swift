import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import StewardCore
import StewardEngine
import StewardMetrics
import StewardTestSupport
import Testing

/// The status page in a real browser: Debian's chromium, headless, loads `GET /` from a running
/// metrics server, runs the page's script (which fetches `/status`), and the rendered table is
/// compared with `/status`. A screenshot is kept in .build/test-artifacts/ for people to look at.
@Suite("status page", .tags(.realCgroups, .hostOnly))
struct StatusPageTests {
    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
    static let artifacts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(".build/test-artifacts")

    @Test("chromium renders every service of /status: state, pid, restarts, limit, and a memory bar by class with the limit marked")
    func pageInChromium() async throws {
        let chromium = try #require(Self.chromium, "chromium is not installed (scripts/install-deps test installs it)")
        // Page cache of a file on a real disk (on tmpfs it would be shmem), kept until the test ends:
        // removing it would drop its cache.
        let disk = ProcessInfo.processInfo.environment["STEWARD_TEST_DISK_DIR"] ?? FileManager.default.currentDirectoryPath + "/.build"
        let file = "\(disk)/steward-page-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: file) }
        let services = [
            // Written, then read twice, so some of its cache is active.
            service("cache", "head -c 8388608 /dev/urandom > \(file); cat \(file) \(file) > /dev/null; echo ready; exec sleep 1000"),
            service("guarded", "echo ready; exec sleep 1000", anonLimitBytes: 64 << 20),
            service("crashing", "exit 3", restart: .always),
        ]
        try await withSupervisor(services) { supervisor, lines in
            try await withDeadline("ready") {
                await lines.wait(for: "ready", from: "cache")
                await lines.wait(for: "ready", from: "guarded")
            }
            _ = try await withDeadline("crashing restarted") { await supervisor.waitUntil("crashing") { ($0.restarts[.exit] ?? 0) >= 1 } }
            _ = try await withServer(supervisor) { base in
                let page = try await get(base + "/")
                #expect(page.status == 200 && page.contentType == "text/html; charset=utf-8")
                #expect(!page.body.contains("http://") && !page.body.contains("https://"), "nothing is fetched from elsewhere")

                try FileManager.default.createDirectory(at: Self.artifacts, withIntermediateDirectories: true)
                let screenshot = Self.artifacts.appendingPathComponent("status-page.png").path
                try? FileManager.default.removeItem(atPath: screenshot)
                let dom = try await Self.run(chromium, [
                    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=/tmp/steward-chromium-\(getpid())",
                    "--window-size=1280,480", "--virtual-time-budget=10000", "--screenshot=\(screenshot)", "--dump-dom", base + "/",
                ])
                // The metrics listener is read-only: nothing there takes a POST.
                var post = URLRequest(url: URL(string: base + "/status")!)
                post.httpMethod = "POST"
                let (_, posted) = try await URLSession.shared.data(for: post)
                #expect((posted as? HTTPURLResponse)?.statusCode == 404 || (posted as? HTTPURLResponse)?.statusCode == 405)
                let status = try await get(base + "/status")
                let report = try JSONDecoder().decode(StatusReport.self, from: Data(status.body.utf8))
                #expect(report.services.map(\.name) == ["cache", "crashing", "guarded"])
                #expect(dom.contains("data-loaded=\"true\""), "the script ran and rendered /status:\n\(dom.prefix(2000))")

                let rows = Self.rows(dom)
                #expect(rows.keys.sorted() == report.services.map(\.name))
                for service in report.services {
                    let row = try #require(rows[service.name])
                    #expect(row["name"] == service.name)
                    if service.state == "running" {
                        #expect(row["state"] == "running")
                        #expect(row["pid"] == service.pid.map(String.init))
                    } else {
                        // crashing is restarted every few milliseconds: the page and /status saw it apart.
                        #expect(["backoff", "starting", "running"].contains { row["state"]?.hasPrefix($0) == true }, "\(row)")
                    }
                    #expect(row["limit"] == (service.anonLimitBytes == nil ? "-" : "64.0 MiB"))
                }
                #expect(rows["cache"]?["restarts"] == "0" && rows["guarded"]?["restarts"] == "0")
                #expect(rows["crashing"]?["restarts"]?.contains("exit ") == true)
                // Bars: a span per class present, and the guard's limit marked.
                let cacheRow = try #require(Self.rowHTML(dom, "cache"))
                let cacheClasses = ["anon", "active", "inactive"].filter { cacheRow.contains("data-class=\"\($0)\"") }
                #expect(cacheClasses.contains("anon") && cacheClasses.count >= 2, "anon and page cache: \(cacheRow)")
                #expect(try #require(Self.rowHTML(dom, "guarded")).contains("class=\"limit\""))
                #expect(!cacheRow.contains("class=\"limit\""))
                let png = try Data(contentsOf: URL(fileURLWithPath: screenshot))
                #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]) && png.count > 10_000, "a screenshot at \(screenshot)")
                print("status page screenshot: \(screenshot) (\(png.count / 1024) KiB)")
            }
        }
    }

    /// Each `<tr data-service=NAME>`'s cells by their data-field, as text.
    static func rows(_ dom: String) -> [String: [String: String]] {
        var rows: [String: [String: String]] = [:]
        for name in dom.components(separatedBy: "<tr data-service=\"").dropFirst().map({ String($0.prefix { $0 != "\"" }) }) {
            guard let html = rowHTML(dom, name) else { continue }
            var cells: [String: String] = [:]
            for piece in html.components(separatedBy: "<td data-field=\"").dropFirst() {
                let field = String(piece.prefix { $0 != "\"" })
                guard let start = piece.firstIndex(of: ">") else { continue }
                let text = piece[piece.index(after: start)...].prefix { $0 != "<" }
                cells[field] = String(text).replacingOccurrences(of: "&amp;", with: "&")
            }
            rows[name] = cells
        }
        return rows
    }

    static func rowHTML(_ dom: String, _ name: String) -> String? {
        guard let start = dom.range(of: "<tr data-service=\"\(name)\"") else { return nil }
        let rest = dom[start.lowerBound...]
        return rest.range(of: "</tr>").map { String(rest[..<$0.upperBound]) }
    }

    /// Runs a program and returns its stdout. The engine's reaper in this process may take the
    /// child's exit status, so the status is not checked: the output is.
    static func run(_ program: String, _ arguments: [String]) async throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        return try await withDeadline("chromium to render the page") {
            await Task.detached { String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) }.value
        }
    }
}
