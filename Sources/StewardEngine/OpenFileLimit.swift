import Glibc
import Synchronization

/// RLIMIT_NOFILE, as systemd expects of a daemon: services get a soft limit of 1024 by default
/// (select() cannot handle more), and one that needs many descriptors raises its own soft limit to
/// the hard one and gives its children the original soft limit back. Steward keeps descriptors per
/// service (output pipes, pidfds, notify sockets, the guard's and the metrics' kept cgroup files),
/// so 100 guarded services would nearly fill 1024 on their own.
public enum OpenFileLimit {
    /// The soft limit Steward was started with, once it has raised its own.
    private static let startedWith = Mutex<rlim_t?>(nil)

    /// Raises the soft limit to the hard limit (once); returns the limits before and after.
    @discardableResult
    public static func raiseToHard() -> (before: rlim_t, after: rlim_t)? {
        startedWith.withLock { original -> (before: rlim_t, after: rlim_t)? in
            var limit = rlimit()
            guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return nil }
            let before = original ?? limit.rlim_cur
            if original == nil, limit.rlim_cur < limit.rlim_max {
                var raised = limit
                raised.rlim_cur = limit.rlim_max
                guard setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 else { return nil }
                limit = raised
            }
            original = before
            return (before, limit.rlim_cur)
        }
    }

    /// What a service's soft limit is set to: Steward's original one, or nil (inherit) if Steward
    /// never raised its own.
    static var servicesSoftLimit: rlim_t? { startedWith.withLock { $0 } }
}
