import CgroupStats
import Foundation
import Glibc
import StewardTestSupport
import Testing
@testable import CgroupFS

/// Real cgroups below the test process's own ones; every test removes what it made.
@Suite("Cgroup tree on this host's real hierarchies", .tags(.realCgroups))
struct CgroupTreeTests {
    let layout: HostLayout

    init() throws {
        layout = try HostLayout.current()
    }

    private func withTree(_ body: (CgroupTree) async throws -> Void) async throws {
        let tree = try scratchCgroupTree(layout: layout)
        defer {
            tree.tearDown()
            for directory in [tree.v2Root].compactMap({ $0 }) + tree.v1Roots.map(\.path) {
                #expect(!FileManager.default.fileExists(atPath: directory), "left behind: \(directory)")
            }
        }
        try await body(tree)
    }

    /// Starts `sh -c script` with the shell first moving itself into `cgroup` (a test helper;
    /// services go through the spawner, which places them before exec).
    private func startShell(_ script: String, in cgroup: ServiceCgroup) throws -> pid_t {
        let joins = ([cgroup.v2Directory].compactMap { $0 } + cgroup.v1Directories.map(\.path))
            .map { "echo $$ > \($0)/cgroup.procs" }.joined(separator: "; ")
        let arguments: [String] = ["/bin/sh", "-c", "\(joins); \(script)"]
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, "/bin/sh", nil, nil, argv, environ)
        guard status == 0 else { throw CgroupFSError(path: "/bin/sh", operation: "posix_spawn", errno: .init(rawValue: status)) }
        return pid
    }

    /// Waiting for a shell to have joined or forked is inherent here: poll the cgroup with a deadline.
    private func waitForPids(in cgroup: ServiceCgroup, atLeast count: Int) throws {
        let deadline = ContinuousClock.now + Duration.seconds(10).scaled
        while try cgroup.pids().count < count {
            try #require(ContinuousClock.now < deadline, "cgroup never had \(count) processes")
            usleep(5_000)
        }
    }

    private func reap(_ pids: [pid_t]) {
        for pid in pids {
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
    }

    @Test("the tree nests below our own cgroup in every hierarchy and is removed again")
    func nesting() async throws {
        try await withTree { tree in
            // tree.layout: on v2 another tree of this process may have moved it into the leaf already.
            if let v2 = tree.layout.v2 {
                #expect(tree.v2Root?.hasPrefix(v2.ownDirectory + "/steward-test-") == true)
            }
            for root in tree.v1Roots {
                let own = try #require(layout.v1.first { $0.controllers == root.controllers })
                #expect(root.path.hasPrefix(own.ownDirectory + "/steward-test-"))
            }
            let cgroup = tree.service(named: "svc")
            try cgroup.create()
            try cgroup.create() // an empty leftover is reused
            #expect(try cgroup.pids().isEmpty)
            try cgroup.remove()
        }
    }

    @Test("creating over a cgroup that still has processes is refused")
    func busyCgroup() async throws {
        try await withTree { tree in
            let cgroup = tree.service(named: "busy")
            try cgroup.create()
            let pid = try startShell("exec sleep 100", in: cgroup)
            try waitForPids(in: cgroup, atLeast: 1)
            defer {
                try? cgroup.killAll()
                reap([pid])
                try? cgroup.remove()
            }
            #expect(throws: CgroupFSError.self) { try cgroup.create() }
        }
    }

    @Test("signalAll reaches processes forked while it runs, and killAll empties the cgroup", arguments: [false, true])
    func killing(simulatePureV1: Bool) async throws {
        try await withTree { tree in
            var cgroup = tree.service(named: "forker")
            var extraFreezer: String?
            if simulatePureV1 && layout.mode != .legacy {
                // The real v1 freezer path, as on a host without a v2 tree (on a pure v1 host the
                // plain case already takes it).
                guard let freezer = layout.v1Hierarchy(for: "freezer") else { return }
                let path = freezer.ownDirectory + "/" + (tree.v1Roots[0].path as NSString).lastPathComponent
                _ = try CgroupFile.makeDirectory(path)
                extraFreezer = path
                cgroup = ServiceCgroup(name: "forker", mode: .legacy, v2Directory: nil,
                                       v1Directories: cgroup.v1Directories + [.init(controllers: ["freezer"], path: path + "/forker")])
            }
            try cgroup.create()
            // A fork bomb in slow motion: keeps making new children.
            let pid = try startShell("while :; do sleep 100 & sleep 0.01; done", in: cgroup)
            do {
                try waitForPids(in: cgroup, atLeast: 5)
                let signalled = try cgroup.signalAll(SIGSTOP)
                #expect(signalled >= 5)
            } catch {
                Issue.record(error)
            }
            try cgroup.killAll()
            reap([pid])
            #expect(await cgroup.waitUntilEmpty(timeout: .seconds(10)))
            #expect(try cgroup.pids().isEmpty)
            try cgroup.remove()
            if let extraFreezer { try CgroupFile.removeDirectory(extraFreezer) }
        }
    }
}
