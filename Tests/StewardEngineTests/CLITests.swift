import CgroupFS
import Foundation
import StewardConfig
import StewardCore
import Synchronization
import SystemPackage
import StewardTestSupport
import Testing
@testable import StewardEngine

/// The `steward` binary end to end, started the way a unit file or container would start it, in a
/// cgroup of its own below the test process's, so its default "nest below my own cgroup" is used.
@Suite("steward CLI end to end", .tags(.realCgroups))
struct CLITests {
    static let binary = URL(fileURLWithPath: try! FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
        .deletingLastPathComponent().appendingPathComponent("steward").path

    final class ExitBox: Sendable {
        let state = Mutex<(status: StewardCore.ExitStatus?, waiters: [CheckedContinuation<StewardCore.ExitStatus, Never>])>((nil, []))
    }

    /// A running `steward` process with its output collected.
    final class StewardProcess: Sendable {
        let pid: Int32
        let output: CollectingSink
        let cgroup: ServiceCgroup
        private let exit = ExitBox()
        private let pump: OutputPump

        /// With `openFilesSoft`, steward starts with that soft RLIMIT_NOFILE (as systemd's 1024).
        /// `cgroup` names steward's cgroup below the tree's root; with `joining`, another steward
        /// may run there already.
        init(
            _ arguments: [String], in tree: CgroupTree, cgroup name: String = "cli", joining: Bool = false,
            environment extra: [String: String] = [:], openFilesSoft: Int? = nil
        ) async throws {
            cgroup = tree.service(named: name)
            if !joining { try cgroup.create() }
            output = CollectingSink()
            pump = try OutputPump(service: "steward", sink: output)
            let exit = self.exit
            let devNull = try FileDescriptor.open("/dev/null", .readOnly, options: [.closeOnExec])
            defer { try? devNull.close() }
            let (executable, argv) = openFilesSoft.map { soft in
                ("/bin/sh", ["sh", "-c", "ulimit -S -n \(soft) && exec \"$0\" \"$@\"", CLITests.binary] + arguments)
            } ?? (CLITests.binary, ["steward"] + arguments)
            let spec = SpawnSpec(executable: executable, arguments: argv,
                                 environment: ProcessInfo.processInfo.environment.merging(extra) { $1 }, workingDirectory: nil, identity: nil,
                                 stdin: devNull, stdout: pump.stdoutWrite, stderr: pump.stderrWrite)
            pid = try await Spawner.spawn(spec, in: cgroup) { _, status in
                let waiters = exit.state.withLock { state in
                    state.status = status
                    defer { state.waiters = [] }
                    return state.waiters
                }
                waiters.forEach { $0.resume(returning: status) }
            }.pid
        }

        func waitForExit() async -> StewardCore.ExitStatus {
            await withCheckedContinuation { continuation in
                exit.state.withLock { state in
                    if let status = state.status { continuation.resume(returning: status) } else { state.waiters.append(continuation) }
                }
            }
        }

        /// Kills whatever is left and removes the cgroup; safe to call after a failure.
        func cleanUp() async {
            try? cgroup.killAll()
            _ = await cgroup.waitUntilEmpty(timeout: .seconds(10))
            pump.close()
            // Steward's own leftovers (if a test failed, or Steward died) sit below its cgroup, in
            // every hierarchy: kill what runs there, then remove them deepest first.
            let hierarchies = [cgroup.v2Directory].compactMap { $0 } + cgroup.v1Directories.map(\.path)
            let leftovers = hierarchies.flatMap { top in
                ((try? FileManager.default.subpathsOfDirectory(atPath: top)) ?? []).filter { !$0.contains(".") && !$0.hasPrefix("tasks") }.map { top + "/" + $0 }
            }
            for directory in leftovers { try? CgroupFile.write("1", to: directory + "/cgroup.kill") }
            for directory in leftovers.sorted(by: { $0.count > $1.count }) { rmdir(directory) }
            try? cgroup.remove()
        }
    }

    @Test("the binary links FoundationEssentials only, not full Foundation and ICU (about 11 MiB more resident memory)")
    func noFullFoundation() throws {
        let ldd = Process()
        ldd.executableURL = URL(fileURLWithPath: "/usr/bin/ldd")
        ldd.arguments = [Self.binary]
        let pipe = Pipe()
        ldd.standardOutput = pipe
        try ldd.run()
        let libraries = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        ldd.waitUntilExit()
        #expect(ldd.terminationStatus == 0)
        #expect(libraries.contains("libswiftCore"), "\(libraries)")
        for library in ["libFoundation.so", "libFoundationInternationalization.so", "lib_FoundationICU.so"] {
            #expect(!libraries.contains(library), "steward needs \(library): some target imports Foundation")
        }
    }

    @Test("`steward exec` has a flag for each service setting that has one, named as the setting says, and no other settings flags")
    func execFlagsAreTheServiceSettings() throws {
        let dump = Process()
        dump.executableURL = URL(fileURLWithPath: Self.binary)
        dump.arguments = ["--experimental-dump-help"]
        let pipe = Pipe()
        dump.standardOutput = pipe
        try dump.run()
        let json = pipe.fileHandleForReading.readDataToEndOfFile()
        dump.waitUntilExit()
        let tool = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        let subcommands = try #require((tool["command"] as? [String: Any])?["subcommands"] as? [[String: Any]])
        let exec = try #require(subcommands.first { $0["commandName"] as? String == "exec" })
        let arguments = try #require(exec["arguments"] as? [[String: Any]])
        let flags = Set(arguments.flatMap { argument in
            (argument["names"] as? [[String: Any]] ?? []).filter { $0["kind"] as? String == "long" }.compactMap { $0["name"] as? String }
        })
        let execOnly: Set = ["name", "cgroup-root", "metrics", "control", "log-level", "log-target", "help"]
        let settingFlags = Set(ServiceSetting.all.compactMap(\.exec.flagName))
        let declared = flags.subtracting(execOnly)
        #expect(settingFlags.subtracting(declared).isEmpty, "settings without their exec flag")
        #expect(declared.subtracting(settingFlags).isEmpty, "exec flags of no setting (or exec's own, missing from this test)")
    }

    @Test("`steward exec` refuses a flag's invalid value naming the flag, before anything starts")
    func execNamesAnInvalidFlag() async throws {
        try await withSteward(["exec", "--name", "job", "--stop-timeout", "10x", "--", "/bin/true"]) { steward in
            let status = try await withDeadline("exec to refuse") { await steward.waitForExit() }
            #expect(status == .exited(64))
            let error = try await withDeadline("the error") { await steward.output.waitForLine { $0.text.hasPrefix("Error: ") } }
            #expect(error.text == "Error: --stop-timeout: invalid duration \"10x\" (expected e.g. 250ms, 10s, 5m, 1h)")
            #expect(childCgroups(of: steward.cgroup).isEmpty)
        }
    }

    func withSteward(
        _ arguments: [String], environment: [String: String] = [:], openFilesSoft: Int? = nil, _ body: (StewardProcess) async throws -> Void
    ) async throws {
        let tree = try scratchCgroupTree()
        defer { tree.tearDown() }
        // The console, whatever the host runs: these tests read the services' lines.
        let console = ["run", "exec"].contains(arguments[0]) ? ["--log-target", "console"] : []
        let process = try await StewardProcess(arguments + console, in: tree, environment: environment, openFilesSoft: openFilesSoft)
        do {
            try await body(process)
        } catch {
            await process.cleanUp()
            throw error
        }
        await process.cleanUp()
    }

    /// Writes a config file; without a `[metrics]` table of its own it gets one on a port the kernel
    /// picks, so Stewards of tests running side by side never compete for the default port.
    func writeConfig(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("steward-\(UUID().uuidString).toml").path
        let metrics = text.contains("[metrics]") ? "" : "\n[metrics]\nlisten = \"127.0.0.1:0\"\n"
        try (text + metrics).write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Every cgroup directory below `cgroup` in every hierarchy.
    func childCgroups(of cgroup: ServiceCgroup) -> [String] {
        ([cgroup.v2Directory].compactMap { $0 } + cgroup.v1Directories.map(\.path)).flatMap { directory in
            ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { !$0.contains(".") && !$0.hasPrefix("tasks") && !$0.hasPrefix("notify_on_release") }
        }
    }

    @Test("SIGHUP to `steward run` with a broken file changes nothing; with a good one it applies the plan")
    func reloadOnHangup() async throws {
        let config = try writeConfig("[services.keep]\ncommand = [\"/bin/sh\", \"-c\", \"echo keep $$; exec sleep 1000\"]\n")
        defer { try? FileManager.default.removeItem(atPath: config) }
        try await withSteward(["run", "--config", config]) { steward in
            let first = try await withDeadline("keep up") { await steward.output.waitForLine { $0.text.hasPrefix("keep | keep ") } }
            try "[services.keep]\ncommand = [\"/bin/sh\", \"-c\", \"echo keep $$; exec sleep 1000\"]\nstop_timeout = \"10x\"\n"
                .write(toFile: config, atomically: true, encoding: .utf8)
            kill(steward.pid, SIGHUP)
            let refused = try await withDeadline("reload refused") { await steward.output.waitForLine { $0.text.contains("reload failed") } }
            #expect(refused.text.contains("\(config):3"), "the error names file and line: \(refused.text)")
            try (try String(contentsOfFile: config, encoding: .utf8).replacingOccurrences(of: "stop_timeout = \"10x\"\n", with: "")
                + "[services.added]\ncommand = [\"/bin/sh\", \"-c\", \"echo added up; exec sleep 1000\"]\n[metrics]\nlisten = \"127.0.0.1:0\"\n")
                .write(toFile: config, atomically: true, encoding: .utf8)
            kill(steward.pid, SIGHUP)
            _ = try await withDeadline("added started") { await steward.output.waitForLine { $0.text == "added | added up" } }
            _ = try await withDeadline("reload logged") { await steward.output.waitForLine { $0.text.contains("reloaded: added: added") } }
            #expect(steward.output.lines.filter { $0.text.hasPrefix("keep | keep ") }.map(\.text) == [first.text], "keep was restarted")
            kill(steward.pid, SIGTERM)
            #expect(try await withDeadline("exit") { await steward.waitForExit() } == .exited(0))
        }
    }

    @Test("SIGTERM to `steward run` stops every service, daemons included, and leaves no cgroup behind")
    func runStopsEverything() async throws {
        let config = try writeConfig("""
            [services.web]
            command = ["/bin/sh", "-c", "echo web up; exec sleep 1000"]

            [services.daemon]
            command = ["/bin/sh", "-c", "setsid -f sh -c 'echo daemon $$; exec sleep 1000'; exec sleep 1000"]

            [services.stubborn]
            command = ["/bin/sh", "-c", "trap '' TERM; echo stubborn up; while :; do sleep 0.05; done"]
            stop_timeout = "500ms"
            """)
        defer { try? FileManager.default.removeItem(atPath: config) }
        try await withSteward(["run", "--config", config]) { steward in
            let daemonLine = try await withDeadline("the daemon's pid") { await steward.output.waitForLine { $0.text.hasPrefix("daemon | daemon ") } }
            _ = try await withDeadline("web and stubborn up") {
                await steward.output.waitForLine { $0.text == "web | web up" }
                return await steward.output.waitForLine { $0.text == "stubborn | stubborn up" }
            }
            let daemonPid = try #require(Int32(daemonLine.text.split(separator: " ").last!))
            #expect(isAlive(daemonPid))
            #expect(Set(childCgroups(of: steward.cgroup)).isSuperset(of: ["web", "daemon", "stubborn"]))

            kill(steward.pid, SIGTERM)
            let status = try await withDeadline("steward to exit") { await steward.waitForExit() }
            #expect(status == .exited(0))
            #expect(!isAlive(daemonPid), "the setsid daemon outlived steward")
            let left = try steward.cgroup.pids()
            #expect(left.isEmpty, "processes left: \(left)")
            #expect(childCgroups(of: steward.cgroup).isEmpty, "cgroups left: \(childCgroups(of: steward.cgroup))")
        }
    }

    @Test("`steward exec` exits with the service's status, or 128 + the signal that killed it", arguments: [
        ("exit 7", Int32(7)), ("kill -KILL $$", 128 + SIGKILL), ("exit 0", 0),
    ])
    func execStatus(script: String, expected: Int32) async throws {
        try await withSteward(["exec", "--name", "job", "--restart", "never", "--", "/bin/sh", "-c", script]) { steward in
            let status = try await withDeadline("steward exec to exit") { await steward.waitForExit() }
            #expect(status == .exited(expected))
        }
    }

    @Test("`steward exec` forwards SIGHUP to the service and SIGTERM stops it")
    func execForwardsSignals() async throws {
        let script = "trap 'echo got HUP' HUP; trap 'echo got TERM; exit 0' TERM; echo ready; while :; do sleep 0.05; done"
        try await withSteward(["exec", "--name", "trapper", "--restart", "never", "--", "/bin/sh", "-c", script]) { steward in
            _ = try await withDeadline("ready") { await steward.output.waitForLine { $0.text == "trapper | ready" } }
            kill(steward.pid, SIGHUP)
            _ = try await withDeadline("HUP forwarded") { await steward.output.waitForLine { $0.text == "trapper | got HUP" } }
            kill(steward.pid, SIGTERM)
            _ = try await withDeadline("TERM forwarded") { await steward.output.waitForLine { $0.text == "trapper | got TERM" } }
            let status = try await withDeadline("exit") { await steward.waitForExit() }
            #expect(status == .exited(0))
        }
    }

    @Test("signals that would end a process by default cost no supervision: `run` ignores them and still answers, QUIT stops it, no backtrace")
    func runSurvivesStraySignals() async throws {
        let config = try writeConfig("""
            [services.echo]
            command = ["/bin/sh", "-c", "n=0; trap 'n=$((n+1)); echo got USR1 $n' USR1; echo ready $$; while :; do sleep 0.05; done"]
            """)
        defer { try? FileManager.default.removeItem(atPath: config) }
        try await withSteward(["run", "--config", config]) { steward in
            let ready = try await withDeadline("ready") { await steward.output.waitForLine { $0.text.hasPrefix("echo | ready ") } }
            let servicePid = try #require(Int32(ready.text.dropFirst("echo | ready ".count)))
            for (round, stray) in [SIGALRM, SIGVTALRM, SIGPROF, SIGIO, SIGPIPE, SIGXCPU, SIGXFSZ].enumerated() {
                kill(steward.pid, stray)
                // A round trip through Steward's signal handling, after the stray signal was delivered.
                kill(steward.pid, SIGUSR1)
                _ = try await withDeadline("USR1 forwarded after signal \(stray)") {
                    await steward.output.waitForLine { $0.text == "echo | got USR1 \(round + 1)" }
                }
                #expect(isAlive(steward.pid), "signal \(stray) ended steward run")
            }
            #expect(isAlive(servicePid))
            kill(steward.pid, SIGQUIT)
            let status = try await withDeadline("exit after SIGQUIT") { await steward.waitForExit() }
            #expect(status == .exited(0))
            #expect(!isAlive(servicePid), "the service outlived steward's stop")
            _ = try await withDeadline("SIGALRM logged as ignored") { await steward.output.waitForLine { $0.text.contains("ignored signal SIGALRM") } }
            #expect(!steward.output.lines.contains { $0.text.contains("crashed") || $0.text.contains("Backtrace") }, "\(steward.output.lines.map(\.text))")
        }
    }

    @Test("`steward exec` stops its service with SIGQUIT when it receives SIGQUIT, without a backtrace")
    func execForwardsQuit() async throws {
        let script = "trap 'echo got QUIT; exit 3' QUIT; echo ready; while :; do sleep 0.05; done"
        try await withSteward(["exec", "--name", "quitter", "--restart", "never", "--", "/bin/sh", "-c", script]) { steward in
            _ = try await withDeadline("ready") { await steward.output.waitForLine { $0.text == "quitter | ready" } }
            kill(steward.pid, SIGQUIT)
            _ = try await withDeadline("QUIT forwarded") { await steward.output.waitForLine { $0.text == "quitter | got QUIT" } }
            let status = try await withDeadline("exit") { await steward.waitForExit() }
            #expect(status == .exited(3), "exec exits with the service's status")
            #expect(!steward.output.lines.contains { $0.text.contains("crashed") || $0.text.contains("Backtrace") }, "\(steward.output.lines.map(\.text))")
        }
    }

    @Test("`steward check` accepts a good config and names file, line and key of a bad one")
    func check() async throws {
        let good = try writeConfig("[services.a]\ncommand = [\"/bin/true\"]\n")
        let bad = try writeConfig("[services.a]\ncommand = [\"/bin/true\"]\nstop_timeout = \"10x\"\n")
        defer { [good, bad].forEach { try? FileManager.default.removeItem(atPath: $0) } }
        try await withSteward(["check", "--config", good]) { steward in
            let status = try await withDeadline("check") { await steward.waitForExit() }
            #expect(status == .exited(0))
        }
        try await withSteward(["check", "--config", bad]) { steward in
            let status = try await withDeadline("check") { await steward.waitForExit() }
            #expect(status != .exited(0))
            let message = try await withDeadline("the error") { await steward.output.waitForLine { $0.text.contains("stop_timeout") } }
            #expect(message.text.contains("\(bad):3: services.a.stop_timeout"), "\(message.text)")
            #expect(!steward.output.lines.contains { $0.text.hasPrefix("Usage:") }, "the command line was fine: no usage text")
        }
    }

    @Test("`steward check` and `run` refuse an unknown user at its line before starting anything")
    func unknownUserIsRefusedAtLoad() async throws {
        let config = try writeConfig("[services.a]\ncommand = [\"/bin/sh\", \"-c\", \"echo started\"]\nuser = \"no-such-user-here\"\n")
        defer { try? FileManager.default.removeItem(atPath: config) }
        for command in ["check", "run"] {
            try await withSteward([command, "--config", config]) { steward in
                let status = try await withDeadline("\(command) to refuse") { await steward.waitForExit() }
                #expect(status == .exited(1))
                // The exit can be noticed before the output pipe is read to its end.
                _ = try await withDeadline("the error") { await steward.output.waitForLine { $0.text.hasPrefix("Error: ") } }
                #expect(steward.output.lines.map(\.text) == ["Error: \(config):3: services.a.user: unknown user \"no-such-user-here\""])
                #expect(childCgroups(of: steward.cgroup).isEmpty)
            }
        }
        // A config meant for another host: the file alone is fine.
        try await withSteward(["check", "--no-host-checks", "--config", config]) { steward in
            let status = try await withDeadline("check") { await steward.waitForExit() }
            #expect(status == .exited(0))
        }
    }

    @Test("started with systemd's soft NOFILE of 1024, `steward run` raises its own to the hard limit, gives services 1024 back, and serves 100 guarded services")
    func openFileLimit() async throws {
        var limits = rlimit()
        try #require(getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limits) == 0)
        try #require(limits.rlim_max > 1024, "this host's hard NOFILE limit is \(limits.rlim_max): nothing to raise to")
        let port = try freeLoopbackPort()
        let services = (0 ..< 100).map { index in
            "[services.s\(index)]\ncommand = [\"/bin/sh\", \"-c\", \"echo up $$; exec sleep 1000\"]\n[services.s\(index).memory]\nanon_limit = \"64MiB\"\n"
        }
        let config = try writeConfig("[metrics]\nlisten = \"127.0.0.1:\(port)\"\n" + services.joined())
        defer { try? FileManager.default.removeItem(atPath: config) }
        try await withSteward(["run", "--config", config], openFilesSoft: 1024) { steward in
            try await withDeadline("100 services up", limit: .seconds(60)) { await steward.output.waitForLines(count: 100) { $0.text.contains(" | up ") } }
            let firstUp = try #require(steward.output.lines.first { $0.text.contains(" | up ") })
            let servicePid = try #require(Int32(firstUp.text.split(separator: " ").last!))
            func openFiles(_ pid: Int32) throws -> (soft: String, hard: String) {
                let line = try #require(try String(contentsOfFile: "/proc/\(pid)/limits", encoding: .utf8).split(separator: "\n").first { $0.hasPrefix("Max open files") })
                let fields = line.split(separator: " ")
                return (String(fields[3]), String(fields[4]))
            }
            let own = try openFiles(steward.pid)
            #expect(own.soft == own.hard && own.hard == "\(limits.rlim_max)", "steward: \(own)")
            #expect(try openFiles(servicePid).soft == "1024", "a service gets the soft limit steward was started with")
            let (curlStatus, metrics) = try runCurl("http://127.0.0.1:\(port)/metrics")
            #expect(curlStatus == 0)
            let anon = metrics.split(separator: "\n").filter { $0.hasPrefix("steward_service_memory_anon_bytes{") }
            #expect(anon.count == 100, "\(anon.count) services' anon in one scrape")
            let descriptors = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(steward.pid)/fd").count
            print("100 guarded services, one scrape: \(descriptors) descriptors open in steward (soft limit now \(own.soft))")
            kill(steward.pid, SIGTERM)
            let status = try await withDeadline("exit") { await steward.waitForExit() }
            #expect(status == .exited(0))
        }
    }

    @Test("`steward run` with a listen address that cannot be bound stops at start with that error, starting nothing")
    func busyListenAddressStopsRun() async throws {
        // A port this test holds open, so the bind must fail.
        let (holder, port) = try loopbackSocket(listening: true)
        defer { close(holder) }
        let config = try writeConfig("[metrics]\nlisten = \"127.0.0.1:\(port)\"\n[services.a]\ncommand = [\"/bin/sh\", \"-c\", \"echo started; exec sleep 1000\"]\n")
        defer { try? FileManager.default.removeItem(atPath: config) }
        try await withSteward(["run", "--config", config]) { steward in
            let status = try await withDeadline("run to refuse") { await steward.waitForExit() }
            #expect(status == .exited(1))
            _ = try await withDeadline("the error") { await steward.output.waitForLine { $0.text.hasPrefix("Error: ") } }
            let expected = "Error: \(config): metrics.listen: cannot serve metrics on 127.0.0.1:\(port): bind(descriptor:ptr:bytes:): Address already in use) (errno: 98)"
            #expect(steward.output.lines.map(\.text).filter { !$0.contains(" info steward: ") } == [expected], "only the error, no service line")
            #expect(childCgroups(of: steward.cgroup).isEmpty, "\(childCgroups(of: steward.cgroup))")
            let socket = try #require(ControlSettings.defaultSocketPath(forConfig: config, userID: getuid(), runtimeDirectory: nil))
            #expect(!FileManager.default.fileExists(atPath: socket), "the control socket, up before the metrics bind failed, is gone again")
        }
    }

    @Test("`steward exec --anon-limit` restarts a leaking service, logging why")
    func execAnonLimit() async throws {
        let leaker = "import time\nkept = []\nwhile True:\n    b = bytearray(4 << 20); b[::4096] = b'x' * len(b[::4096]); kept.append(b); print('held', len(kept) * 4, flush=True); time.sleep(0.05)"
        try await withSteward(["exec", "--name", "leak", "--restart", "never", "--anon-limit", "40MiB", "--anon-limit-for", "300ms",
                               "--sample-interval", "100ms", "--", "python3", "-c", leaker]) { steward in
            let why = try await withDeadline("the guard's log line") { await steward.output.waitForLine { $0.text.contains("stayed above its limit") } }
            #expect(why.text.contains("limit_bytes=41943040"), "\(why.text)")
            // Started again: a second "held 4".
            _ = try await withDeadline("the second run") {
                await steward.output.waitForLines(count: 2) { $0.text == "leak | held 4" }
            }
            kill(steward.pid, SIGTERM)
            _ = try await withDeadline("exit") { await steward.waitForExit() }
        }
    }

    @Test("under Type=notify, `steward run` sends READY=1 with a STATUS= summary, then STOPPING=1")
    func sdNotify() async throws {
        let socketPath = FileManager.default.currentDirectoryPath + "/.build/notify-\(UInt32.random(in: 0 ... .max)).sock"
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { path in
            for (index, byte) in socketPath.utf8.enumerated() { path[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        try #require(bound == 0)
        defer {
            close(fd)
            unlink(socketPath)
        }
        let messages = NotifyListener(fd: fd)
        let config = try writeConfig("[services.a]\ncommand = [\"/bin/sh\", \"-c\", \"exec sleep 1000\"]\n[services.b]\ncommand = [\"/bin/sh\", \"-c\", \"exec sleep 1000\"]\n")
        defer { try? FileManager.default.removeItem(atPath: config) }
        try await withSteward(["run", "--config", config], environment: ["NOTIFY_SOCKET": socketPath]) { steward in
            let ready = try await withDeadline("READY=1") { await messages.next { $0.contains("READY=1") } }
            #expect(ready.contains("STATUS=2 running"), "\(ready)")
            kill(steward.pid, SIGTERM)
            _ = try await withDeadline("STOPPING=1") { await messages.next { $0.contains("STOPPING=1") } }
            _ = try await withDeadline("exit") { await steward.waitForExit() }
        }
    }
}

/// Receives sd_notify datagrams on a socket the test owns.
final class NotifyListener: Sendable {
    private let fd: Int32

    init(fd: Int32) {
        self.fd = fd
    }

    /// The next datagram that matches (blocking reads on a Dispatch thread, not the test's).
    func next(_ matches: @escaping @Sendable (String) -> Bool) async -> String {
        let fd = self.fd
        return await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var buffer = [UInt8](repeating: 0, count: 4096)
                while true {
                    let count = recv(fd, &buffer, buffer.count, 0)
                    guard count > 0 else { continue }
                    let message = String(decoding: buffer[..<count], as: UTF8.self)
                    if matches(message) { return continuation.resume(returning: message) }
                }
            }
        }
    }
}

/// `curl -fsS URL`: its exit status and what it printed.
func runCurl(_ url: String) throws -> (Int32, String) {
    let curl = Process()
    curl.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
    curl.arguments = ["-fsS", "--max-time", "30", url]
    let output = Pipe()
    curl.standardOutput = output
    try curl.run()
    let printed = output.fileHandleForReading.readDataToEndOfFile()
    curl.waitUntilExit()
    return (curl.terminationStatus, String(decoding: printed, as: UTF8.self))
}
