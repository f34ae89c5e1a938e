@testable import CgroupFS
import Foundation
import StewardConfig
import StewardTestSupport
import Testing

/// `steward ctl` against a real `steward run` / `steward exec` and its control socket. The control
/// tests stay on the host (.hostOnly): the API does not depend on the cgroup version, each starts
/// dozens of short-lived `steward` processes that take seconds apiece under the guests' software
/// emulation, and the systemd guest checks ctl through the default socket under systemd on v2.
extension CLITests {
    struct Ctl {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `steward ctl ARGS`, as `user` (uid and gid, through setpriv) if given. The engine's
    /// reaper in this test process waits for every child (waitpid(-1)), so Foundation's Process may
    /// lose ctl's exit status to it: a shell waits for ctl and writes the status as the last line.
    func ctl(_ arguments: [String], user: Int? = nil) async throws -> Ctl {
        try await ctlProcess(["ctl"] + arguments, user: user)
    }

    /// `steward ARGS`, short-lived, with its output and exit status.
    func ctlProcess(_ arguments: [String], user: Int? = nil) async throws -> Ctl {
        let process = Process()
        let command = (user.map { ["/usr/bin/setpriv", "--reuid=\($0)", "--regid=\($0)", "--clear-groups"] } ?? []) + [Self.binary] + arguments
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "\"$@\"; echo \"exit $?\" >&2", "sh"] + command
        let (out, err) = (Pipe(), Pipe())
        process.standardOutput = out
        process.standardError = err
        try process.run()
        async let stdout = out.fileHandleForReading.readToEnd()
        async let stderr = err.fileHandleForReading.readToEnd()
        let (outText, errText) = (String(decoding: try await stdout ?? Data(), as: UTF8.self), String(decoding: try await stderr ?? Data(), as: UTF8.self))
        var lines = errText.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        let status = try #require(lines.popLast().flatMap { $0.hasPrefix("exit ") ? Int32($0.dropFirst(5)) : nil }, "no status from ctl: \(errText)")
        return Ctl(status: status, stdout: outText, stderr: lines.map { $0 + "\n" }.joined())
    }

    /// Runs `steward ctl ARGS` (a follow) and returns its output lines once `enough` says so, then
    /// stops it.
    func ctlFollowing(_ arguments: [String], until enough: @escaping @Sendable ([String]) -> Bool) async throws -> [String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["ctl"] + arguments
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        defer { process.terminate() }
        let reading = Task.detached { () -> [String] in
            var text = ""
            while true {
                let data = out.fileHandleForReading.availableData
                if data.isEmpty { return text.split(separator: "\n").map(String.init) }
                text += String(decoding: data, as: UTF8.self)
                let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
                if enough(lines) { return lines }
            }
        }
        return try await withDeadline("the followed lines") { await reading.value }
    }

    /// Every service of `ctl status --json`, keyed by name, as JSON objects.
    func statusObjects(_ socket: String) async throws -> [String: [String: Any]] {
        let answer = try await ctl(["--socket", socket, "status", "--json"])
        #expect(answer.status == 0, "\(answer.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(answer.stdout.utf8)) as? [String: Any])
        let services = try #require(report["services"] as? [[String: Any]])
        return Dictionary(uniqueKeysWithValues: services.map { ($0["name"] as? String ?? "", $0) })
    }

    func socketPath() -> String {
        "/tmp/steward-ctl-\(UUID().uuidString.prefix(8)).sock"
    }

    /// The pid a service's first output line ("NAME PID") announced, in its `occurrence`-th run.
    func announcedPid(_ steward: StewardProcess, _ name: String, occurrence: Int = 1) async throws -> Int {
        let prefix = "\(name) | \(name) "
        try await withDeadline("\(name) up (run \(occurrence))") {
            await steward.output.waitForLines(count: occurrence) { $0.text.hasPrefix(prefix) }
        }
        let lines = steward.output.lines.filter { $0.text.hasPrefix(prefix) }
        return try #require(Int(lines[occurrence - 1].text.dropFirst(prefix.count)))
    }

    static let statusKeys: Set = [
        "name", "state", "detail", "pid", "uptime_seconds", "backoff_remaining_seconds", "restarts", "last_exit", "memory",
        "anon_limit_bytes", "status_text",
    ]
    static let memoryKeys: Set = [
        "anon_bytes", "swap_bytes", "shmem_bytes", "active_file_bytes", "inactive_file_bytes", "kernel_bytes", "usage_bytes",
    ]

    @Test("steward ctl against `steward run`: status (table and the JSON schema), restart, stop, start, signal, inspect, unknown names, no Steward", .tags(.hostOnly))
    func ctlVerbs() async throws {
        let socket = socketPath()
        let config = try writeConfig("""
            [control]
            socket = "\(socket)"

            [services.web]
            command = ["/bin/sh", "-c", "echo web $$; trap 'echo web got HUP' HUP; while :; do sleep 0.05; done"]

            [services.worker]
            command = ["/bin/sh", "-c", "echo worker $$; exec sleep 1000"]

            [services.other]
            command = ["/bin/sh", "-c", "echo other $$; exec sleep 1000"]

            [services.other.memory]
            anon_limit = "100MiB"
            """)
        defer { try? FileManager.default.removeItem(atPath: config) }
        try await withSteward(["run", "--config", config]) { steward in
            let web = try await announcedPid(steward, "web")
            let worker = try await announcedPid(steward, "worker")
            let other = try await announcedPid(steward, "other")
            let attributes = try FileManager.default.attributesOfItem(atPath: socket)
            #expect((attributes[.posixPermissions] as? Int) == 0o600, "the socket is its owner's alone")

            // The JSON schema: every key present (null when unknown), the values what the services are.
            var services = try await statusObjects(socket)
            #expect(Set(services.keys) == ["web", "worker", "other"])
            for (name, service) in services {
                #expect(Set(service.keys) == Self.statusKeys, "\(name)")
                #expect(Set((service["memory"] as? [String: Any] ?? [:]).keys) == Self.memoryKeys, "\(name)")
                #expect(service["state"] as? String == "running")
                #expect((service["restarts"] as? [String: Int])?.values.reduce(0, +) == 0)
            }
            #expect(services["web"]?["pid"] as? Int == web)
            #expect(services["other"]?["anon_limit_bytes"] as? Int == 100 << 20)
            #expect(services["web"]?["anon_limit_bytes"] is NSNull)
            #expect(((services["web"]?["memory"] as? [String: Any])?["anon_bytes"] as? Int ?? 0) > 0)

            let table = try await ctl(["--socket", socket, "status"])
            #expect(table.status == 0, "\(table)")
            let rows = table.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
            #expect(rows.first?.prefix(4) == ["NAME", "STATE", "PID", "UPTIME"])
            #expect(rows.dropFirst().map { Array($0.prefix(3)) } == [["other", "running", "\(other)"], ["web", "running", "\(web)"], ["worker", "running", "\(worker)"]])

            // restart: a new pid, counted as manual; nobody else touched.
            let restarted = try await ctl(["--socket", socket, "restart", "worker"])
            #expect(restarted.status == 0, "\(restarted.stderr)")
            let newWorker = try await announcedPid(steward, "worker", occurrence: 2)
            #expect(newWorker != worker)
            #expect(restarted.stdout == "worker: running (pid \(newWorker))\n")
            services = try await statusObjects(socket)
            #expect((services["worker"]?["restarts"] as? [String: Int])?["manual"] == 1)
            #expect(services["web"]?["pid"] as? Int == web && services["other"]?["pid"] as? Int == other)

            // stop one: it is idle, its cgroup gone; the others keep their pids.
            let stopped = try await ctl(["--socket", socket, "stop", "other"])
            #expect(stopped.status == 0 && stopped.stdout == "other: stopped\n", "\(stopped)")
            #expect(kill(pid_t(other), 0) != 0, "other's process is gone")
            services = try await statusObjects(socket)
            #expect(services["other"]?["state"] as? String == "idle")
            #expect(services["other"]?["memory"] is NSNull)
            #expect(services["web"]?["pid"] as? Int == web && services["worker"]?["pid"] as? Int == newWorker)

            // stop again: nothing to do, still a success; start brings it back.
            let answer = try await ctl(["--socket", socket, "stop", "other"])
            #expect(answer.status == 0, "\(answer)")
            let started = try await ctl(["--socket", socket, "start", "other"])
            let newOther = try await announcedPid(steward, "other", occurrence: 2)
            #expect(started.status == 0 && started.stdout == "other: running (pid \(newOther))\n", "\(started)")

            // signal the main process
            let signalled = try await ctl(["--socket", socket, "signal", "web", "HUP"])
            #expect(signalled.status == 0, "\(signalled)")
            _ = try await withDeadline("web got HUP") { await steward.output.waitForLine { $0.text == "web | web got HUP" } }

            // inspect asks through the socket too.
            let inspect = try await ctlProcess(["inspect", "web", "--socket", socket])
            #expect(inspect.status == 0 && inspect.stdout.hasPrefix("web: running, started ") && inspect.stdout.contains("\n  anon "), "\(inspect)")
            let inspectUnknown = try await ctlProcess(["inspect", "nosuch", "--socket", socket])
            #expect(inspectUnknown.status == 4 && inspectUnknown.stderr == "steward ctl: unknown service \"nosuch\"\n", "\(inspectUnknown)")

            // unknown service (4), no Steward at the socket (3): one line, a distinct status.
            let unknown = try await ctl(["--socket", socket, "restart", "nosuch"])
            #expect(unknown.status == 4 && unknown.stdout == "nosuch: unknown service \"nosuch\"\n", "\(unknown)")
            let unknownStatus = try await ctl(["--socket", socket, "status", "nosuch"])
            #expect(unknownStatus.status == 4 && unknownStatus.stderr == "steward ctl: unknown service \"nosuch\"\n", "\(unknownStatus)")
            let absent = try await ctl(["--socket", socket + ".absent", "status"])
            #expect(absent.status == 3 && absent.stderr.hasPrefix("steward ctl: Steward is not running"), "\(absent)")

            kill(steward.pid, SIGTERM)
            #expect(try await withDeadline("exit") { await steward.waitForExit() } == .exited(0))
            #expect(!FileManager.default.fileExists(atPath: socket), "Steward removes its socket when it ends")
        }
    }

    @Test("steward ctl reload reports started, stopped, restarted and unchanged; an invalid file changes nothing and exits 1", .tags(.hostOnly))
    func ctlReload() async throws {
        let socket = socketPath()
        let control = "[control]\nsocket = \"\(socket)\"\n[metrics]\nlisten = \"127.0.0.1:0\"\n"
        let service = { (name: String) in "[services.\(name)]\ncommand = [\"/bin/sh\", \"-c\", \"echo \(name) $$; exec sleep 1000\"]\n" }
        let config = try writeConfig(control + service("keep") + service("change") + service("drop"))
        defer { try? FileManager.default.removeItem(atPath: config) }
        try await withSteward(["run", "--config", config]) { steward in
            let keep = try await announcedPid(steward, "keep")
            _ = try await announcedPid(steward, "change")
            _ = try await announcedPid(steward, "drop")
            try (control + service("keep") + service("change") + "stop_timeout = \"5s\"\n" + service("add"))
                .write(toFile: config, atomically: true, encoding: .utf8)
            let reloaded = try await ctl(["--config", config, "reload"])
            #expect(reloaded.status == 0, "\(reloaded)")
            #expect(reloaded.stdout == "add: started\ndrop: stopped\nchange: restarted\nkeep: unchanged\n")
            _ = try await announcedPid(steward, "add")

            try (control + service("keep") + "stop_timeout = \"10x\"\n").write(toFile: config, atomically: true, encoding: .utf8)
            let refused = try await ctl(["--socket", socket, "reload"])
            #expect(refused.status == 1, "\(refused)")
            #expect(refused.stderr.contains("\(config):7") && refused.stderr.hasSuffix("nothing changed\n"), "\(refused.stderr)")
            let services = try await statusObjects(socket)
            #expect(Set(services.keys) == ["keep", "change", "add"])
            #expect(services["keep"]?["pid"] as? Int == keep)
        }
    }

    @Test("the control socket: another user is refused (5), a malformed request gets 400 and Steward keeps serving, a live socket is not taken over, a stale one is", .tags(.hostOnly))
    func controlSocketBoundaries() async throws {
        let socket = socketPath()
        let config = try writeConfig("[control]\nsocket = \"\(socket)\"\n[services.idle]\ncommand = [\"/bin/sh\", \"-c\", \"echo idle $$; exec sleep 1000\"]\n")
        defer { try? FileManager.default.removeItem(atPath: config) }
        try await withSteward(["run", "--config", config]) { steward in
            _ = try await announcedPid(steward, "idle")
            let nobody = try await ctl(["--socket", socket, "status"], user: 65534)
            #expect(nobody.status == 5 && nobody.stderr.hasPrefix("steward ctl: permission denied on \(socket)"), "\(nobody)")

            let fd = socket_unix(socket)
            #expect(fd >= 0)
            let garbage = Array("GARBAGE\r\n\r\n".utf8)
            #expect(write(fd, garbage, garbage.count) == garbage.count)
            var buffer = [UInt8](repeating: 0, count: 512)
            let count = read(fd, &buffer, buffer.count)
            close(fd)
            #expect(String(decoding: buffer.prefix(max(0, count)), as: UTF8.self).hasPrefix("HTTP/1.1 400"))
            let afterGarbage = try await ctl(["--socket", socket, "status"])
            #expect(afterGarbage.status == 0, "Steward still serves: \(afterGarbage)")
            // Bad values are 400 with the API's one-line error body.
            for (method, path, body) in [("GET", "/v1/services/idle/logs?lines=many", ""), ("POST", "/v1/services/idle/stop?timeout=nan", ""),
                                         ("POST", "/v1/services/idle/signal", "{not json")] {
                let answer = try curl(socket, method, path, body: body)
                #expect(answer.hasPrefix("400 {\"error\":\""), "\(method) \(path): \(answer)")
            }

            // A second Steward on the same socket refuses to start and leaves the first one alone.
            let otherTree = try scratchCgroupTree()
            defer { otherTree.tearDown() }
            let second = try await StewardProcess(["run", "--config", config, "--log-target", "console"], in: otherTree)
            let status = try await withDeadline("the second Steward to refuse") { await second.waitForExit() }
            #expect(status == .exited(1))
            _ = try await withDeadline("the second Steward's error") {
                await second.output.waitForLine { $0.text.contains("another Steward is listening on \(socket)") }
            }
            await second.cleanUp()
            let answer = try await ctl(["--socket", socket, "status"])
            #expect(answer.status == 0, "\(answer)")
            // Killed, Steward leaves its socket behind, with nobody listening on it.
            kill(steward.pid, SIGKILL)
            _ = try await withDeadline("exit") { await steward.waitForExit() }
            #expect(FileManager.default.fileExists(atPath: socket))
        }
        try await withSteward(["run", "--config", config]) { steward in
            _ = try await announcedPid(steward, "idle")
            let answer = try await ctl(["--socket", socket, "status"])
            #expect(answer.status == 0, "\(answer)")
        }
    }

    @Test("steward ctl logs: the newest lines with time and stream, -n, -f follows new lines; an unknown service is 4", .tags(.hostOnly))
    func ctlLogs() async throws {
        let socket = socketPath()
        let config = try writeConfig("""
            [control]
            socket = "\(socket)"

            [services.ticker]
            command = ["/bin/sh", "-c", "echo ticker $$; i=0; while [ $i -lt 5 ]; do i=$((i+1)); echo out $i; echo err $i >&2; done; while :; do i=$((i+1)); echo out $i; sleep 0.01; done"]
            """)
        defer { try? FileManager.default.removeItem(atPath: config) }
        try await withSteward(["run", "--config", config]) { steward in
            _ = try await announcedPid(steward, "ticker")
            try await withDeadline("the first lines") { await steward.output.waitForLines(count: 6) { $0.text.hasPrefix("ticker | out ") } }
            let recent = try await ctl(["--socket", socket, "logs", "ticker", "-n", "1000"])
            #expect(recent.status == 0, "\(recent)")
            // "2026-12-04 17:18:35.730 stdout out 1": local time with milliseconds, the stream, the line.
            let entries = recent.stdout.split(separator: "\n").map { $0.split(separator: " ", maxSplits: 3).map(String.init) }
            #expect(entries.allSatisfy { $0.count == 4 && $0[0].count == 10 && $0[1].count == 12 && ["stdout", "stderr"].contains($0[2]) }, "\(recent.stdout)")
            let texts = entries.map { "\($0[2]) \($0[3])" }
            // stdout and stderr are two pipes: each in order, interleaved as they were read.
            #expect(Array(texts.filter { $0.hasPrefix("stdout out ") }.prefix(5)) == (1...5).map { "stdout out \($0)" })
            #expect(texts.filter { $0.hasPrefix("stderr ") } == (1...5).map { "stderr err \($0)" })

            let two = try await ctl(["--socket", socket, "logs", "ticker", "-n", "2"])
            #expect(two.stdout.split(separator: "\n").count == 2)

            // -f: lines printed after the follow began arrive, in order, none twice.
            let followed = try await ctlFollowing(["--socket", socket, "logs", "ticker", "-n", "0", "-f"]) { $0.count >= 20 }
            let numbers = followed.compactMap { $0.split(separator: " ").last.flatMap { Int($0) } }
            #expect(numbers.count >= 20 && zip(numbers, numbers.dropFirst()).allSatisfy { $1 == $0 + 1 }, "\(followed)")

            let unknown = try await ctl(["--socket", socket, "logs", "nosuch"])
            #expect(unknown.status == 4, "\(unknown)")
        }
    }

    @Test("a service printing 50 MB keeps Steward's memory bounded by its log ring", .tags(.hostOnly))
    func logRingBoundsMemory() async throws {
        let socket = socketPath()
        let config = try writeConfig("""
            [control]
            socket = "\(socket)"

            [services.idle]
            command = ["/bin/sh", "-c", "echo idle $$; exec sleep 1000"]

            [services.big]
            command = ["/bin/sh", "-c", "while [ ! -e \(socket).go ]; do sleep 0.01; done; yes $(printf %01000d 0) | head -c 50000000; echo; echo done; exec sleep 1000"]
            """)
        defer {
            try? FileManager.default.removeItem(atPath: config)
            try? FileManager.default.removeItem(atPath: socket + ".go")
        }
        try await withSteward(["run", "--config", config]) { steward in
            _ = try await announcedPid(steward, "idle")
            func rssAnonKiB() throws -> Int {
                let status = try String(contentsOfFile: "/proc/\(steward.pid)/status", encoding: .utf8)
                let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("RssAnon:") })
                return try #require(Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]))
            }
            let before = try rssAnonKiB()
            _ = FileManager.default.createFile(atPath: socket + ".go", contents: nil)
            _ = try await withDeadline("50 MB printed") { await steward.output.waitForLine { $0.text == "big | done" } }
            let after = try rssAnonKiB()
            print("RssAnon of steward before and after a service printed 50 MB: \(before) KiB, \(after) KiB")
            #expect(after - before < 16 << 10, "the ring holds 256 KiB; 50 MB passed through")
            let kept = try await ctl(["--socket", socket, "logs", "big", "-n", "1000000"])
            let keptBytes = kept.stdout.utf8.count
            #expect(keptBytes < 300 << 10 && kept.stdout.hasSuffix(" stdout done\n"), "\(keptBytes) bytes kept")
        }
    }

    @Test("steward ctl signal --all-processes reaches every process; a start that fails exits 1; a stop that outlasts --timeout exits 6; --no-wait and --all; [control] group opens the socket to that group", .tags(.hostOnly))
    func ctlFailuresAndGroups() async throws {
        let socket = socketPath()
        let config = try writeConfig("""
            [control]
            socket = "\(socket)"
            group = "nogroup"

            # Cannot even be spawned. (One that exits at once counts as started: like systemd's
            # Type=simple, readiness is the spawn unless ready = "notify".)
            [services.broken]
            command = ["/nonexistent/steward-test-program"]
            restart = "never"
            autostart = false

            [services.stubborn]
            command = ["/bin/sh", "-c", "trap '' TERM; echo stubborn $$; while :; do sleep 0.05; done"]
            stop_timeout = "2s"

            [services.family]
            command = ["/bin/sh", "-c", "sh -c \\"trap 'echo child got HUP' HUP; echo child up; while :; do sleep 0.05; done\\" & trap 'echo main got HUP' HUP; echo family $$; while :; do sleep 0.05; done"]
            """)
        defer { try? FileManager.default.removeItem(atPath: config) }
        try await withSteward(["run", "--config", config]) { steward in
            _ = try await announcedPid(steward, "stubborn")
            let attributes = try FileManager.default.attributesOfItem(atPath: socket)
            #expect((attributes[.posixPermissions] as? Int) == 0o660 && (attributes[.groupOwnerAccountID] as? Int) == 65534)
            let member = try await ctl(["--socket", socket, "status"], user: 65534)
            #expect(member.status == 0, "nobody, in nogroup, may use the socket: \(member)")

            // --all-processes: the signal reaches the child too, not only the main process.
            try await withDeadline("family up") {
                await steward.output.waitForLine { $0.text == "family | child up" }
                await steward.output.waitForLine { $0.text.hasPrefix("family | family ") }
            }
            let everyone = try await ctl(["--socket", socket, "signal", "--all-processes", "family", "HUP"])
            #expect(everyone.status == 0 && everyone.stdout == "family: sent\n", "\(everyone)")
            try await withDeadline("both got HUP") {
                await steward.output.waitForLine { $0.text == "family | main got HUP" }
                await steward.output.waitForLine { $0.text == "family | child got HUP" }
            }

            let broken = try await ctl(["--socket", socket, "start", "broken"])
            #expect(broken.status == 1 && broken.stdout.hasPrefix("broken: failed: "), "\(broken)")

            let impatient = try await ctl(["--socket", socket, "--timeout", "0.5", "stop", "stubborn"])
            #expect(impatient.status == 6, "\(impatient)")

            let noWait = try await ctl(["--socket", socket, "start", "--no-wait", "broken"])
            #expect(noWait.status == 0, "\(noWait)")

            let all = try await ctl(["--socket", socket, "stop", "--all"])
            #expect(all.status == 0 && all.stdout == "broken: stopped\nfamily: stopped\nstubborn: stopped\n", "\(all)")
            let both = try await ctl(["--socket", socket, "stop", "--all", "broken"])
            #expect(both.status == 64, "--all and names together is a usage error: \(both)")
        }
    }

    @Test("after kill -9 of `steward run`, a new Steward stops what the old one left (a daemon's double fork included) before it starts each service once")
    func leftoversOfAKilledSteward() async throws {
        let config = try writeConfig("""
            [services.web]
            command = ["/bin/sh", "-c", "echo web $$; exec sleep 1000"]

            [services.daemon]
            command = ["/bin/sh", "-c", "setsid -f sh -c 'echo forked $$; exec sleep 1001'; echo daemon $$; exec sleep 1000"]

            [services.stubborn]
            # An ignored signal stays ignored across exec: sleep outlives TERM.
            command = ["/bin/sh", "-c", "trap '' TERM; echo stubborn $$; exec sleep 1000"]
            stop_timeout = "500ms"
            """)
        defer { try? FileManager.default.removeItem(atPath: config) }
        let tree = try scratchCgroupTree()
        defer { tree.tearDown() }
        let first = try await StewardProcess(["run", "--config", config, "--log-target", "console"], in: tree)
        var old: [String: [Int32]] = [:]
        for name in ["web", "daemon", "stubborn"] {
            let pid = Int32(try await announcedPid(first, name))
            old[name] = [pid]
        }
        let forked = try await withDeadline("the daemon's fork") { await first.output.waitForLine { $0.text.hasPrefix("daemon | forked ") } }
        old["daemon"]?.append(try #require(Int32(forked.text.split(separator: " ").last ?? "")))
        kill(first.pid, SIGKILL)
        _ = try await withDeadline("the first Steward to die") { await first.waitForExit() }
        for pid in old.values.flatMap({ $0 }) { #expect(kill(pid, 0) == 0, "\(pid) outlived its Steward") }

        // The second Steward runs in the same cgroup, so it finds the first one's service cgroups. (On
        // a unified host the first moved itself into the leaf "steward" and enabled controllers for
        // its cgroup's children, so no process may join that cgroup itself any more: the leaf is
        // where systemd would find Steward's cgroup usable too.)
        let leaf = tree.layout.mode == .unified ? "cli/" + CgroupTree.supervisorLeafName : "cli"
        let second = try await StewardProcess(["run", "--config", config, "--log-target", "console"], in: tree, cgroup: leaf)
        do {
            for name in ["web", "daemon", "stubborn"] {
                let found = try await withDeadline("\(name)'s leftovers reported") {
                    await second.output.waitForLine { $0.text.contains("left in cgroup \(name) by an earlier Steward") }
                }
                #expect(found.text.contains("pids "), "\(found.text)")
            }
            let announcements = ["web | web ", "daemon | daemon ", "stubborn | stubborn "]
            try await withDeadline("every service started again") {
                await second.output.waitForLines(count: 3) { line in announcements.contains { line.text.hasPrefix($0) } }
            }
            for pid in old.values.flatMap({ $0 }) { #expect(kill(pid, 0) != 0, "\(pid), left by the first Steward, is gone") }
            // Exactly one run of each: its cgroup holds the new main process only.
            for name in ["web", "stubborn"] {
                let cgroup = first.cgroup.child(name)
                let pids = try cgroup.allPids()
                #expect(pids.count == 1 && !(old[name] ?? []).contains(pids[0]), "\(name): \(pids)")
            }
            kill(second.pid, SIGTERM)
            #expect(try await withDeadline("exit") { await second.waitForExit() } == .exited(0))
        } catch {
            await second.cleanUp()
            throw error
        }
        await second.cleanUp()
        await first.cleanUp()
    }

    @Test("after kill -9 of `steward run`, the next Steward's counters carry on from the checkpoint: restarts and CPU seconds never go back; a clean exit removes it; a damaged one is refused and counters start from zero")
    func countersCarryOnAfterAKill() async throws {
        let socket = socketPath()
        let counters = ControlSettings.countersPath(forSocket: socket)
        let marks = FileManager.default.temporaryDirectory.appendingPathComponent("steward-marks-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: marks, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: marks); unlink(counters) }
        let port = try freeLoopbackPort()
        let config = try writeConfig("""
            [control]
            socket = "\(socket)"
            [metrics]
            listen = "127.0.0.1:\(port)"

            [services.burner]
            # Only its first run uses CPU worth measuring, so what a later Steward shows above it
            # can only come from the first run's counters.
            command = ["/bin/sh", "-c", "if mkdir \(marks)/burned 2>/dev/null; then i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; fi; echo burner $$; exec sleep 1000"]

            [services.flappy]
            # Fails twice, then stays up: two restarts, and no more in later Stewards.
            command = ["/bin/sh", "-c", "echo x >> \(marks)/runs; [ $(wc -l < \(marks)/runs) -ge 3 ] || exit 1; echo flappy $$; exec sleep 1000"]
            restart = "always"
            restart_delay = "10ms"
            """)
        defer { try? FileManager.default.removeItem(atPath: config) }
        func scrape() throws -> (cpuSeconds: Double, restarts: Double) {
            let (status, text) = try runCurl("http://127.0.0.1:\(port)/metrics")
            try #require(status == 0)
            func value(_ family: String, _ labels: [String]) throws -> Double {
                let line = try #require(text.split(separator: "\n").first { $0.hasPrefix(family + "{") && labels.allSatisfy($0.contains) }, "\(family) \(labels)")
                return try #require(Double(line.split(separator: " ").last ?? ""))
            }
            let cpu = try value("steward_service_cpu_seconds_total", ["service=\"burner\"", "mode=\"user\""])
                + value("steward_service_cpu_seconds_total", ["service=\"burner\"", "mode=\"system\""])
            return (cpu, try value("steward_service_restarts_total", ["service=\"flappy\"", "reason=\"exit\""]))
        }
        let tree = try scratchCgroupTree()
        defer { tree.tearDown() }
        let leaf = tree.layout.mode == .unified ? "cli/" + CgroupTree.supervisorLeafName : "cli"
        let first = try await StewardProcess(["run", "--config", config, "--log-target", "console"], in: tree)
        var stewards = [first]
        do {
            _ = try await announcedPid(first, "burner")
            _ = try await announcedPid(first, "flappy")
            let before = try scrape()
            #expect(before.restarts == 2 && before.cpuSeconds > 0, "\(before)")
            #expect(FileManager.default.fileExists(atPath: counters), "a running Steward keeps its checkpoint at \(counters)")
            kill(first.pid, SIGKILL)
            _ = try await withDeadline("the first Steward to die") { await first.waitForExit() }

            let second = try await StewardProcess(["run", "--config", config, "--log-target", "console"], in: tree, cgroup: leaf)
            stewards.append(second)
            _ = try await withDeadline("the counters carried on") {
                await second.output.waitForLine { $0.text.contains("carried on from the counters an earlier Steward recorded in \(counters): burner, flappy") }
            }
            _ = try await announcedPid(second, "burner")
            _ = try await announcedPid(second, "flappy")
            let after = try scrape()
            // The first run's cgroup was still there when the second Steward started: its final
            // counters were read before it was stopped, so nothing the first Steward showed is lost.
            #expect(after.restarts == 2, "restarts carried on: \(after)")
            #expect(after.cpuSeconds >= before.cpuSeconds, "CPU seconds never go back: \(before) then \(after)")
            print("counters before the kill: \(before), after: \(after)")
            kill(second.pid, SIGTERM)
            #expect(try await withDeadline("exit") { await second.waitForExit() } == .exited(0))
            #expect(!FileManager.default.fileExists(atPath: counters), "a clean exit removes the checkpoint")

            try "steward-counters 9\nservice flappy\nrestarts exit=40\n".write(toFile: counters, atomically: true, encoding: .utf8)
            let third = try await StewardProcess(["run", "--config", config, "--log-target", "console"], in: tree, cgroup: leaf)
            stewards.append(third)
            _ = try await withDeadline("the damaged checkpoint refused") {
                await third.output.waitForLine { $0.text.contains("cannot use the counter checkpoint \(counters):1: expected 'steward-counters 1'") }
            }
            _ = try await announcedPid(third, "flappy")
            #expect(try scrape().restarts == 0, "counters start from zero")
            kill(third.pid, SIGTERM)
            #expect(try await withDeadline("exit") { await third.waitForExit() } == .exited(0))
        } catch {
            for steward in stewards.reversed() { await steward.cleanUp() }
            throw error
        }
        for steward in stewards.reversed() { await steward.cleanUp() }
    }

    @Test("a second Steward in the same cgroup leaves the first one's running services alone")
    func liveStewardIsNoLeftover() async throws {
        let config = try writeConfig("[services.web]\ncommand = [\"/bin/sh\", \"-c\", \"echo web $$; exec sleep 1000\"]\n")
        defer { try? FileManager.default.removeItem(atPath: config) }
        let tree = try scratchCgroupTree()
        defer { tree.tearDown() }
        let first = try await StewardProcess(["run", "--config", config, "--log-target", "console"], in: tree)
        var second: StewardProcess?
        do {
            let web = Int32(try await announcedPid(first, "web"))
            let leaf = tree.layout.mode == .unified ? "cli/" + CgroupTree.supervisorLeafName : "cli"
            // Its own config, so its own control socket: only the cgroup is shared.
            let otherConfig = try writeConfig("[services.web]\ncommand = [\"/bin/sh\", \"-c\", \"echo web $$; exec sleep 1000\"]\n")
            defer { try? FileManager.default.removeItem(atPath: otherConfig) }
            let joined = try await StewardProcess(["run", "--config", otherConfig, "--log-target", "console"], in: tree, cgroup: leaf, joining: true)
            second = joined
            _ = try await withDeadline("the second Steward to leave the cgroups alone") {
                await joined.output.waitForLine { $0.text.contains("another Steward uses this cgroup root") }
            }
            _ = try await withDeadline("the second Steward's web to be refused its cgroup") {
                await joined.output.waitForLine { $0.text.contains("cgroup already holds process") }
            }
            #expect(kill(web, 0) == 0, "the first Steward's web still runs")
            #expect(!first.output.lines.contains { $0.text.hasPrefix("web | web ") && $0.text != "web | web \(web)" }, "and was not restarted")
            kill(joined.pid, SIGTERM)
            _ = try await withDeadline("the second Steward to exit") { await joined.waitForExit() }
            #expect(kill(web, 0) == 0, "the second Steward's stop leaves the first one's web running")
            kill(first.pid, SIGTERM)
            #expect(try await withDeadline("the first Steward to exit") { await first.waitForExit() } == .exited(0))
        } catch {
            await second?.cleanUp()
            await first.cleanUp()
            throw error
        }
        await second?.cleanUp()
        await first.cleanUp()
    }

    @Test("stop --all and start --all of 150 services: more than Steward serves connections at once, each answered", .tags(.hostOnly))
    func ctlAllOfMany() async throws {
        let socket = socketPath()
        let names = (0..<150).map { String(format: "s%03d", $0) }
        let config = try writeConfig("[control]\nsocket = \"\(socket)\"\n" + names.map {
            "[services.\($0)]\ncommand = [\"/bin/sh\", \"-c\", \"echo \($0) $$; exec sleep 1000\"]\n"
        }.joined())
        defer { try? FileManager.default.removeItem(atPath: config) }
        try await withSteward(["run", "--config", config]) { steward in
            try await withDeadline("150 services up") { await steward.output.waitForLines(count: 150) { $0.text.hasPrefix("s") && $0.text.contains(" | ") } }
            let stopped = try await ctl(["--socket", socket, "stop", "--all"])
            #expect(stopped.status == 0 && stopped.stdout == names.map { "\($0): stopped\n" }.joined(), "\(stopped.stderr)")
            let started = try await ctl(["--socket", socket, "start", "--all"])
            let lines = started.stdout.split(separator: "\n")
            #expect(started.status == 0 && lines.count == 150 && zip(lines, names).allSatisfy { $0.hasPrefix("\($1): running (pid ") }, "\(started.stderr)")
        }
    }

    @Test("shell completions for bash, zsh and fish know ctl's subcommands", .tags(.hostOnly))
    func completions() async throws {
        for shell in ["bash", "zsh", "fish"] {
            let script = try await ctlProcess(["--generate-completion-script", shell])
            #expect(script.status == 0 && ["ctl", "restart", "logs", "no-wait"].allSatisfy(script.stdout.contains), "\(shell)")
        }
    }

    @Test("steward ctl against `steward exec --control`: status, logs, restart (a new pid), start, signal, reload (refused), stop ends exec", .tags(.hostOnly))
    func ctlAgainstExec() async throws {
        let socket = socketPath()
        try await withSteward(["exec", "--name", "job", "--control", socket, "--", "/bin/sh", "-c", "echo job $$; exec sleep 1000"]) { steward in
            let first = try await announcedPid(steward, "job")
            let services = try await statusObjects(socket)
            #expect(services["job"]?["pid"] as? Int == first)
            let logs = try await ctl(["--socket", socket, "logs", "job"])
            #expect(logs.status == 0 && logs.stdout.hasSuffix(" stdout job \(first)\n"), "\(logs)")
            let restarted = try await ctl(["--socket", socket, "restart", "job"])
            let second = try await announcedPid(steward, "job", occurrence: 2)
            #expect(restarted.status == 0 && restarted.stdout == "job: running (pid \(second))\n", "\(restarted)")
            #expect(second != first)
            let started = try await ctl(["--socket", socket, "start", "job"])
            #expect(started.status == 0 && started.stdout == "job: running (pid \(second))\n", "already running: \(started)")
            let signalled = try await ctl(["--socket", socket, "signal", "job", "CONT"])
            #expect(signalled.status == 0 && signalled.stdout == "job: sent\n", "\(signalled)")
            let reload = try await ctl(["--socket", socket, "reload"])
            #expect(reload.status == 1 && reload.stderr == "steward ctl: this Steward has no config file to reload; nothing changed\n", "\(reload)")
            let stopped = try await ctl(["--socket", socket, "stop", "job"])
            #expect(stopped.status == 0 && stopped.stdout == "job: stopped\n", "\(stopped)")
            #expect(try await withDeadline("exec ends once its service is stopped") { await steward.waitForExit() } == .exited(143))
        }
    }
}

/// `curl --unix-socket`: "STATUS BODY". Only stdout is read (the engine's reaper in the test
/// process may take curl's exit status).
private func curl(_ socket: String, _ method: String, _ path: String, body: String) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
    process.arguments = ["--silent", "--max-time", "10", "--unix-socket", socket, "-X", method, "--data-raw", body,
                         "--write-out", "\n%{http_code}", "http://steward" + path]
    let out = Pipe()
    process.standardOutput = out
    try process.run()
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    let parts = text.split(separator: "\n", omittingEmptySubsequences: false)
    return "\(parts.last ?? "") " + parts.dropLast().joined(separator: "\n")
}

/// A connected Unix stream socket (-1 on failure).
private func socket_unix(_ path: String) -> Int32 {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: path.utf8.prefix($0.count - 1)) }
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    if connected != 0 {
        close(fd)
        return -1
    }
    return fd
}

extension ServiceCgroup {
    /// The cgroup `name` below this one, in every hierarchy.
    func child(_ name: String) -> ServiceCgroup {
        ServiceCgroup(
            name: name, mode: mode, v2Directory: v2Directory.map { $0 + "/" + name },
            v1Directories: v1Directories.map { .init(controllers: $0.controllers, path: $0.path + "/" + name) }
        )
    }
}
