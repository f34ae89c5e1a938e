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
    private let state = Mutex(State())

    private struct State {
        /// Written only once open (after the earlier Steward's file was read) and until removed: a
        /// scrape answered before `start` or after `shutdown` must not replace or recreate it.
        var phase = Phase.notOpen
        /// The last write error, logged once rather than at every scrape.
        var lastError: String?
        /// What the file holds: a scrape of services whose counters did not move writes nothing.
        var written: CounterCheckpoint?
    }

    private enum Phase {
        case notOpen, open, removed
    }

    /// What a checkpoint may weigh when read back (10,000 services take about 4 MiB).
    static let maximumBytes = 16 << 20

    init(path: String) {
        self.path = path
    }

    /// Opens the checkpoint for writing. With `runners`, first carries on from the counters an
    /// earlier Steward recorded (it crashed or was killed): each service's restarts, and its cgroup
    /// counters with what its live run's cgroup, if still there, counted since
    /// (`CounterCheckpoint.Entry.resumedCounters`). Before the leftovers are stopped, so that their
    /// counters are read first.
    func open(resuming runners: [ServiceRunner]?, logger: Logger) {
        state.withLock { state in
            guard state.phase == .notOpen else { return }
            state.phase = .open
            guard let runners, let recorded = load(logger: logger) else { return }
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
    }

    /// Writes every service's counters, read under the same lock as the write, so that writes land
    /// in the order their counters were read (a later write never holds older counters).
    func record(_ runners: [ServiceRunner], logger: Logger) {
        state.withLock { state in
            guard state.phase == .open else { return }
            var recorded = CounterCheckpoint()
            for runner in runners {
                let counters = runner.reader.counterState
                recorded.services[runner.configuration.name] = CounterCheckpoint.Entry(
                    restarts: runner.snapshot.value.restarts, reported: counters.reported, endedRuns: counters.endedRuns,
                    liveRunBaseline: counters.liveRunBaseline
                )
            }
            guard recorded != state.written else { return }
            do {
                try replace(with: recorded.text)
                state.written = recorded
                if state.lastError != nil { logger.notice("the counter checkpoint \(path) is written again") }
                state.lastError = nil
            } catch {
                let message = "\(error)"
                if state.lastError != message {
                    logger.warning("cannot write the counter checkpoint: \(message); after a crash, counters would start from an older checkpoint or from zero")
                }
                state.lastError = message
            }
        }
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

    /// Removes the file for good: nothing is written after this.
    func remove() {
        state.withLock { state in
            state.phase = .removed
            _ = unlink(path)
        }
    }

    /// The checkpoint an earlier Steward left; nil if there is none, or (logged) if it cannot be
    /// used: then the counters start from zero, as if there were none. A symbolic link is not
    /// followed (the file may sit in a shared directory beside a configured socket).
    private func load(logger: Logger) -> CounterCheckpoint? {
        let text: String
        do {
            let fd = try FileDescriptor.open(FilePath(path), .readOnly, options: [.closeOnExec, .noFollow], retryOnInterrupt: true)
            defer { try? fd.close() }
            // A few hundred bytes per service: anything near this size is not a checkpoint.
            var status = stat()
            if fstat(fd.rawValue, &status) == 0, status.st_size > Self.maximumBytes {
                logger.warning("cannot use the counter checkpoint \(path): \(status.st_size) bytes, more than a checkpoint's \(Self.maximumBytes) at most; counters start from zero")
                return nil
            }
            text = try CgroupFile.readText(fd, path: path)
        } catch let error as Errno where error == .noSuchFileOrDirectory {
            return nil
        } catch {
            logger.warning("cannot read the counter checkpoint \(path): \(error); counters start from zero")
            return nil
        }
        do {
            return try CounterCheckpoint(parsing: text, file: path)
        } catch {
            logger.warning("cannot use the counter checkpoint \(error); counters start from zero")
            return nil
        }
    }

    /// Replaces the file whole: a fresh temporary file (never one another user planted, nor a link),
    /// renamed over it.
    private func replace(with text: String) throws(CgroupFSError) {
        let directory = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        if !directory.isEmpty, mkdir(directory, 0o755) != 0, errno != EEXIST {
            throw CgroupFSError(path: directory, operation: "create the directory", errno: Errno(rawValue: errno))
        }
        let temporary = path + ".new"
        // Left by a crash mid-write, or planted: gone, and O_EXCL makes sure the file is ours.
        _ = unlink(temporary)
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(FilePath(temporary), .writeOnly, options: [.create, .exclusiveCreate, .noFollow, .closeOnExec],
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
