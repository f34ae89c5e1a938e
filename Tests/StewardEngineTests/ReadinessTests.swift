import Foundation
import StewardConfig
import StewardCore
import StewardTestSupport
import Testing
@testable import StewardEngine

@Suite("ready = notify services", .tags(.realCgroups))
struct ReadinessTests {
    /// sd_notify in a few lines of Python (an abstract socket is "@name"), sent after `seconds`, or
    /// (nil) once the service got SIGUSR1, after printing "waiting".
    static func notifier(after seconds: Double?, _ message: String) -> String {
        let wait = seconds.map { "time.sleep(\($0))" }
            ?? "signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1}); print('waiting', flush=True); signal.sigwait({signal.SIGUSR1})"
        return """
        import os, signal, socket, time
        \(wait)
        address = os.environ["NOTIFY_SOCKET"]
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.sendto(b"\(message)", "\\0" + address[1:] if address.startswith("@") else address)
        print("notified", flush=True)
        time.sleep(1000)
        """
    }

    func notifyService(_ name: String, _ program: String, restart: RestartPolicy, startTimeout: Duration = .seconds(3600)) -> ServiceConfiguration {
        ServiceConfiguration(
            name: name, command: ["python3", "-c", program], restart: restart, stopTimeout: .seconds(5),
            backoff: BackoffPolicy(initialDelay: .milliseconds(50), maximumDelay: .seconds(1), resetAfter: .seconds(60), startLimit: 3),
            readiness: .notify, startTimeout: startTimeout
        )
    }

    @Test("a notify service is running only after READY=1, and its STATUS= is kept")
    func readyOnNotify() async throws {
        let service = notifyService("notifier", Self.notifier(after: nil, "READY=1\\nSTATUS=serving 3 clients"), restart: .never)
        try await withSupervisor([service]) { supervisor, sink in
            _ = try await withDeadline("the service waiting") { await sink.waitForLine { $0.text == "waiting" } }
            let early = supervisor.snapshot(of: "notifier")
            #expect(early?.state.name == "starting", "running before READY=1: \(String(describing: early?.state))")
            #expect(early?.mainPid != nil)
            #expect(await supervisor.signal(SIGUSR1, to: "notifier") == .accepted, "a signal goes to a service that is not ready yet")
            let running = try await withDeadline("READY=1") { await supervisor.waitUntil("notifier") { $0.isUp } }
            #expect(running?.statusText == "serving 3 clients")
            _ = try await withDeadline("the service's own account") { await sink.waitForLine { $0.text == "notified" } }
        }
    }

    @Test("no READY=1 within the start timeout: restarted with reason start_timeout, then failed at the start limit")
    func startTimeout() async throws {
        let silent = notifyService("silent", "import time; time.sleep(1000)", restart: .always, startTimeout: .milliseconds(300))
        let notOnce = notifyService("once", "import time; time.sleep(1000)", restart: .never, startTimeout: .milliseconds(300))
        try await withSupervisor([silent, notOnce]) { supervisor, _ in
            let failed = try await withDeadline("silent to fail") {
                await supervisor.waitUntil("silent") { if case .failed = $0.state { true } else { false } }
            }
            #expect(failed?.restarts[.startTimeout] == 2)
            let once = try await withDeadline("once to fail") {
                await supervisor.waitUntil("once") { if case .failed = $0.state { true } else { false } }
            }
            #expect(once?.restarts.isEmpty == true)
        }
    }

    @Test("a message from outside the service's cgroup is ignored")
    func foreignSenderIgnored() async throws {
        let trigger = FileManager.default.currentDirectoryPath + "/.build/steward-notify-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: trigger) }
        // Once the trigger file exists, the service itself sends STATUS=inside (without READY=1).
        let program = """
            import os, socket, time
            print("up", flush=True)
            while not os.path.exists("\(trigger)"): time.sleep(0.01)
            address = os.environ["NOTIFY_SOCKET"]
            socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"STATUS=inside", "\\0" + address[1:])
            time.sleep(1000)
            """
        let service = notifyService("guarded", program, restart: .never)
        try await withSupervisor([service]) { supervisor, sink in
            _ = try await withDeadline("up") { await sink.waitForLine { $0.text == "up" } }
            let environment = try String(contentsOfFile: "/proc/\(supervisor.snapshot(of: "guarded")!.mainPid!)/environ", encoding: .utf8)
            let notifySocket = try #require(environment.split(separator: "\0").first { $0.hasPrefix("NOTIFY_SOCKET=") }?.dropFirst("NOTIFY_SOCKET=".count))
            // The test process is not in the service's cgroup: its READY=1 must not count.
            let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            defer { close(fd) }
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let name = Array(notifySocket.dropFirst().utf8)
            withUnsafeMutableBytes(of: &address.sun_path) { path in
                for (index, byte) in name.enumerated() { path[index + 1] = byte }
            }
            let length = socklen_t(MemoryLayout<sa_family_t>.size + 1 + name.count)
            let message = Array("READY=1\nSTATUS=foreign".utf8)
            let sent = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, message, message.count, 0, $0, length) }
            }
            #expect(sent == message.count)
            #expect(FileManager.default.createFile(atPath: trigger, contents: nil))
            // Datagrams arrive in order: once "inside" is seen, the foreign one was handled before it.
            let after = try await withDeadline("the service's own STATUS=") {
                await supervisor.waitUntil("guarded") { $0.statusText == "inside" }
            }
            #expect(after?.state.name == "starting", "a foreign READY=1 was accepted")
        }
    }
}
