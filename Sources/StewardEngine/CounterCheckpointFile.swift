import CgroupFS
import CgroupStats
import Glibc
import Logging
import StewardCore
import Synchronization
import SystemPackage

/// Where a Steward keeps its services' counters (`CounterCheckpoint`) while it runs, so that the next
/// one, after a crash or a kill -9, carries on from them. Written after every change of a service
/// (a run began or ended, a restart was counted) and before every scrape is answered; removed when
/// Steward exits cleanly, its services stopped (the next Steward's counters then start from zero, as
/// a freshly started exporter's do). Each write replaces the file whole (a temporary file renamed
/// over it), so a crash mid-write leaves the previous checkpoint.
final class CounterCheckpointFile: Sendable {
    let path: String
    /// Serialises writes; holds the last write error, logged once rather than at every scrape.
    private let lastError = Mutex<String?>(nil)

    init(path: String) {
        self.path = path
    }

    /// Carries on from the counters an earlier Steward recorded (it crashed or was killed): each
    /// service's restarts, and its cgroup counters plus what the cgroup its live run had, if that is
    /// still there, counted since (`CounterCheckpoint.Entry.resumedCounters`). Before the leftovers
    /// are stopped, so that their counters are read first.
    func resume(_ runners: [ServiceRunner], logger: Logger) {
        guard let recorded = load(logger: logger) else { return }
        var resumed: [String] = []
        for runner in runners {
            guard let entry = recorded.services[runner.configuration.name] else { continue }
            // A reader of its own that keeps no descriptor: the leftover cgroup is about to go.
            let leftover = CgroupReader(cgroup: runner.cgroup, budget: DescriptorBudget(descriptors: 0)).sample()?.counters
            runner.resume(restarts: entry.restarts, counters: entry.resumedCounters(leftover: leftover))
            resumed.append(runner.configuration.name)
        }
        logger.notice("carried on from the counters an earlier Steward recorded in \(path): \(resumed.isEmpty ? "none of its services is configured now" : resumed.joined(separator: ", "))")
    }

    /// Writes every service's counters.
    func record(_ runners: [ServiceRunner], logger: Logger) {
        var recorded = CounterCheckpoint()
        for runner in runners {
            let counters = runner.reader.counterState
            recorded.services[runner.configuration.name] = CounterCheckpoint.Entry(
                restarts: runner.snapshot.value.restarts, reported: counters.reported, endedRuns: counters.endedRuns,
                liveRunBaseline: counters.liveRunBaseline
            )
        }
        write(recorded, logger: logger)
    }

    /// After each change of any service (`changes`: a run began or ended, a restart was counted),
    /// records the counters: at most ten times a second, the changes meanwhile in one write. Until
    /// cancelled.
    func recordAfterChanges(_ changes: Watched<Int>, of runners: @Sendable () -> [ServiceRunner], logger: Logger) async {
        var written = -1
        while !Task.isCancelled {
            let last = written
            guard let seen = try? await changes.wait(until: { $0 != last }) else { return }
            record(runners(), logger: logger)
            written = seen
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    /// The checkpoint an earlier Steward left; nil if there is none, or (logged) if it cannot be
    /// used: then the counters start from zero, as if there were none.
    private func load(logger: Logger) -> CounterCheckpoint? {
        let text: String
        do {
            text = try CgroupFile.readText(path)
        } catch where error.errno == .noSuchFileOrDirectory {
            return nil
        } catch {
            logger.warning("cannot read the counter checkpoint: \(error); counters start from zero")
            return nil
        }
        do {
            return try CounterCheckpoint(parsing: text, file: path)
        } catch {
            logger.warning("cannot use the counter checkpoint \(error); counters start from zero")
            return nil
        }
    }

    private func write(_ checkpoint: CounterCheckpoint, logger: Logger) {
        let text = checkpoint.text
        lastError.withLock { lastError in
            do {
                try replace(with: text)
                if lastError != nil { logger.notice("the counter checkpoint \(path) is written again") }
                lastError = nil
            } catch {
                let message = "\(error)"
                if lastError != message {
                    logger.warning("cannot write the counter checkpoint: \(message); after a crash, counters would start from an older checkpoint or from zero")
                }
                lastError = message
            }
        }
    }

    func remove() {
        lastError.withLock { _ in _ = unlink(path) }
    }

    private func replace(with text: String) throws(CgroupFSError) {
        let directory = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        if !directory.isEmpty, mkdir(directory, 0o755) != 0, errno != EEXIST {
            throw CgroupFSError(path: directory, operation: "create the directory", errno: Errno(rawValue: errno))
        }
        let temporary = path + ".new"
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(FilePath(temporary), .writeOnly, options: [.create, .truncate, .closeOnExec],
                                         permissions: [.ownerReadWrite], retryOnInterrupt: true)
        } catch {
            throw CgroupFSError(path: temporary, operation: "create", errno: error as? Errno ?? .ioError)
        }
        do {
            _ = try fd.closeAfter { try fd.writeAll(text.utf8) }
        } catch {
            unlink(temporary)
            throw CgroupFSError(path: temporary, operation: "write", errno: error as? Errno ?? .ioError)
        }
        if rename(temporary, path) != 0 {
            let failure = Errno(rawValue: errno)
            unlink(temporary)
            throw CgroupFSError(path: path, operation: "rename \(temporary) to", errno: failure)
        }
    }
}
