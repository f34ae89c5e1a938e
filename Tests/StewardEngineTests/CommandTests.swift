import CgroupFS
import Foundation
import Logging
import StewardConfig
import StewardCore
import StewardTestSupport
import Testing
@testable import StewardEngine

@Suite("The command API on real cgroups", .tags(.realCgroups))
struct CommandTests {
    @Test("restart gives a new pid and counts a manual restart; stop of one leaves the others; each answer says what happened")
    func commands() async throws {
        let services = [service("a", "echo a $$; exec sleep 1000"), service("b", "echo b $$; exec sleep 1000")]
        try await withSupervisor(services) { supervisor, sink in
            _ = try await withDeadline("both up") {
                await sink.waitForLine { $0.text.hasPrefix("a ") }
                return await sink.waitForLine { $0.text.hasPrefix("b ") }
            }
            let (firstA, pidB) = (supervisor.snapshot(of: "a")?.mainPid, supervisor.snapshot(of: "b")?.mainPid)
            #expect(await supervisor.start("a") == .ignored(.alreadyRunning))
            #expect(await supervisor.perform(.start, on: "nope") == .unknownService)

            #expect(await supervisor.restart("a") == .accepted)
            let restarted = try await withDeadline("a restarted") {
                await supervisor.waitUntil("a") { $0.isUp && $0.mainPid != firstA }
            }
            #expect(restarted?.restarts[.manual] == 1)
            #expect(firstA.map(isAlive) == false)

            #expect(await supervisor.stop("a") == .accepted)
            _ = try await withDeadline("a stopped") { await supervisor.waitUntil("a") { $0.state == .idle } }
            #expect(await supervisor.stop("a") == .ignored(.notRunning))
            #expect(await supervisor.signal(SIGUSR1, to: "a") == .ignored(.notRunning))
            #expect(supervisor.snapshot(of: "b")?.mainPid == pidB, "stopping a touched b")
            #expect(pidB.map(isAlive) == true)

            #expect(await supervisor.start("a") == .accepted)
            _ = try await withDeadline("a started again") { await supervisor.waitUntil("a") { $0.isUp } }
        }
    }

    @Test("a signal for the whole cgroup reaches every process, the main one only the main process")
    func signalTargets() async throws {
        let script = "sh -c \"trap 'echo child got USR1' USR1; echo child ready; while :; do sleep 0.05; done\" & "
            + "trap 'echo main got USR1' USR1; echo main ready; while :; do sleep 0.05; done"
        try await withSupervisor([service("family", script)]) { supervisor, sink in
            _ = try await withDeadline("both ready") {
                await sink.waitForLines(count: 2) { $0.text.hasSuffix(" ready") }
            }
            #expect(await supervisor.signal(SIGUSR1, to: "family") == .accepted)
            _ = try await withDeadline("main got it") { await sink.waitForLine { $0.text == "main got USR1" } }
            #expect(await supervisor.signal(SIGUSR1, to: "family", target: .wholeCgroup) == .accepted)
            _ = try await withDeadline("child got it") { await sink.waitForLine { $0.text == "child got USR1" } }
            #expect(sink.lines(of: "family").filter { $0 == "child got USR1" }.count == 1, "the main-process signal reached the child")
        }
    }

    @Test("stop signals processes in cgroups the service made below its own, and removes those cgroups")
    func childCgroups() async throws {
        let directory = "$STEWARD_TEST_CGROUP"
        let script = """
            mkdir \(directory)/worker && sh -c "echo \\$\\$ > \(directory)/worker/cgroup.procs; trap 'echo worker got TERM; exit 0' TERM; \
            echo worker ready; while :; do sleep 0.05; done" & trap 'wait; exit 0' TERM; while :; do sleep 0.05; done
            """
        var nested = service("nested", script)
        try await withSupervisor([]) { supervisor, sink in
            // The tracking hierarchy: v2 (unified, hybrid) or, on pure v1, the freezer one.
            nested.environment = ["STEWARD_TEST_CGROUP": supervisor.tree.service(named: "nested").trackingDirectory]
            _ = try await supervisor.reload(StewardConfiguration(cgroupRoot: supervisor.configuration.cgroupRoot, services: [nested]))
            _ = try await withDeadline("worker in its own cgroup") { await sink.waitForLine { $0.text == "worker ready" } }
            let worker = supervisor.tree.service(named: "nested").trackingDirectory + "/worker"
            #expect(try CgroupFile.readText(worker + "/cgroup.procs").split(separator: "\n").count >= 1)
            #expect(await supervisor.stop("nested") == .accepted)
            _ = try await withDeadline("stopped") { await supervisor.waitUntil("nested") { $0.state == .idle } }
            // The main shell waits for the worker on TERM, so the worker got it if the line comes.
            _ = try await withDeadline("the worker's TERM") { await sink.waitForLine { $0.text == "worker got TERM" } }
            #expect(!FileManager.default.fileExists(atPath: worker), "the child cgroup was left behind")
        }
    }

    @Test("the supervisor's lifecycle: reload is refused before start and after shutdown; shutdown twice is fine")
    func lifecycle() async throws {
        expectRealCgroupsTag()
        let configuration = StewardConfiguration(cgroupRoot: "steward-test-\(UInt32.random(in: 0 ... .max))", services: [service("x", "exec sleep 1000")])
        let supervisor = try Supervisor(configuration: configuration, sink: CollectingSink(), logger: Logger(label: "steward-test"))
        #expect(supervisor.lifecycle == .initial)
        await #expect(throws: Supervisor.ReloadRefused.self) { try await supervisor.reload(configuration) }
        await supervisor.start()
        #expect(supervisor.lifecycle == .running)
        let plan = try await supervisor.reload(configuration)
        #expect(plan.unchanged == ["x"] && plan.changed.isEmpty)
        async let first: Void = supervisor.shutdown()
        async let second: Void = supervisor.shutdown()
        _ = await (first, second)
        #expect(supervisor.lifecycle == .finished)
        await #expect(throws: Supervisor.ReloadRefused.self) { try await supervisor.reload(configuration) }
    }
}
