import CStewardSpawn
@preconcurrency import Dispatch
import Glibc
import StewardCore
import Synchronization

/// The process-wide owner of `waitpid`: it reaps every child, the services' main processes and
/// orphans re-parented to Steward (subreaper, or PID 1 in a container), and routes each main
/// process's status to whoever registered it. A child is created under the same lock that routing
/// takes, so one that exits at once is never reaped before its handler exists; waiting for its exec
/// happens outside the lock, so spawns overlap.
final class Reaper: Sendable {
    static let shared = Reaper()

    typealias ExitHandler = @Sendable (pid_t, ExitStatus) -> Void
    private let handlers = Mutex<[pid_t: ExitHandler]>([:])
    private let wakeRead: Int32
    private let source: DispatchSourceRead

    private init() {
        // Orphaned descendants (double-forked daemons) become our children, so they can be reaped.
        _ = steward_become_subreaper()
        wakeRead = steward_sigchld_pipe()
        guard wakeRead >= 0 else {
            fatalError("cannot set up SIGCHLD handling: \(String(cString: strerror(errno)))")
        }
        source = DispatchSource.makeReadSource(fileDescriptor: wakeRead, queue: DispatchQueue(label: "steward.reaper"))
        source.setEventHandler { [unowned self] in self.drainAndReap() }
        source.activate()
    }

    /// Runs `create` (which returns a pid or throws) with routing held back and registers `onExit`
    /// for that pid; then, without the lock, `finish`. When `finish` throws (the child never ran the
    /// program), the handler is dropped again.
    func spawn<Created: Sendable, Result>(
        create: () throws -> (pid_t, Created), finish: (Created) async throws -> Result, onExit: @escaping ExitHandler
    ) async throws -> Result {
        let (pid, created) = try handlers.withLock { handlers in
            let (pid, created) = try create()
            handlers[pid] = onExit
            return (pid, created)
        }
        do {
            return try await finish(created)
        } catch {
            _ = handlers.withLock { $0.removeValue(forKey: pid) }
            throw error
        }
    }

    private func drainAndReap() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while read(wakeRead, &buffer, buffer.count) > 0 {}
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            if pid <= 0 { return } // 0: children remain, none exited; -1: ECHILD
            let handler = handlers.withLock { $0.removeValue(forKey: pid) }
            handler?(pid, Self.exitStatus(status))
        }
    }

    static func exitStatus(_ status: Int32) -> ExitStatus {
        // WIFEXITED/WTERMSIG are macros Swift cannot import.
        let signal = status & 0x7f
        return signal == 0 ? .exited((status >> 8) & 0xff) : .signaled(signal)
    }
}
