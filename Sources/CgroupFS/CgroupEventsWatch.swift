import CgroupStats
@preconcurrency import Dispatch
import Glibc
import Synchronization

/// Tells waiters when a v2 cgroup.events file changes (a cgroup became empty, or populated). One
/// inotify instance serves the whole process, read by a dispatch source: a wait parks no thread and
/// holds one inotify watch while it lasts (instances are limited per user, watches are plenty).
final class CgroupEventsWatch: Sendable {
    /// Nil when the kernel gives no inotify instance; waits then poll.
    static let shared: CgroupEventsWatch? = CgroupEventsWatch()

    private let inotify: Int32
    private let source: DispatchSourceRead
    private let watches = Mutex<[Int32: WatchedFile]>([:])

    private struct WatchedFile {
        var users = 0
        /// Changes seen so far; a waiter waits for this to pass the count it saw.
        var changes = 0
        var waiters: [UInt64: (seen: Int, continuation: CheckedContinuation<Void, Never>)] = [:]
    }

    /// A registered interest in one file: changes after `arm` are never missed.
    struct Ticket: Sendable {
        fileprivate let descriptor: Int32
        fileprivate let id: UInt64
    }

    private init?() {
        inotify = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        guard inotify >= 0 else { return nil }
        source = DispatchSource.makeReadSource(fileDescriptor: inotify, queue: DispatchQueue(label: "steward.cgroup-events"))
        let inotify = inotify
        source.setEventHandler { [unowned self] in
            var buffer = [UInt8](repeating: 0, count: 4096)
            while case let count = read(inotify, &buffer, buffer.count), count > 0 {
                var offset = 0
                while offset + MemoryLayout<inotify_event>.size <= count {
                    let event = buffer.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: inotify_event.self) }
                    // A full event queue drops events: then every waiter looks again.
                    if event.mask & UInt32(IN_Q_OVERFLOW) != 0 { self.changedAll() } else { self.changed(event.wd) }
                    offset += MemoryLayout<inotify_event>.size + Int(event.len)
                }
            }
        }
        source.activate()
    }

    private static let nextID = Atomic<UInt64>(0)

    /// Starts watching `path`; nil if it cannot be watched (gone, or no watch to be had). The watch
    /// syscalls happen under the lock that counts a file's users, so two waits on one file never
    /// see each other's watch half made or half removed.
    func arm(_ path: String) -> Ticket? {
        let inotify = inotify
        let descriptor = watches.withLock { watches -> Int32? in
            // IN_IGNORED comes on its own when the cgroup is removed.
            let descriptor = inotify_add_watch(inotify, path, UInt32(IN_MODIFY))
            guard descriptor >= 0 else { return nil }
            watches[descriptor, default: WatchedFile()].users += 1
            return descriptor
        }
        return descriptor.map { Ticket(descriptor: $0, id: Self.nextID.add(1, ordering: .relaxed).newValue) }
    }

    func disarm(_ ticket: Ticket) {
        let inotify = inotify
        watches.withLock { watches in
            guard var watched = watches[ticket.descriptor] else { return }
            watched.users -= 1
            if watched.users > 0 {
                watches[ticket.descriptor] = watched
                return
            }
            watches[ticket.descriptor] = nil
            // The kernel drops the watch by itself when the file goes (then this is EINVAL, harmless).
            inotify_rm_watch(inotify, ticket.descriptor)
        }
    }

    /// How many changes the ticket's file has seen.
    func changes(_ ticket: Ticket) -> Int {
        watches.withLock { $0[ticket.descriptor]?.changes ?? 0 }
    }

    /// Returns once the file changed more than `seen` times, at `deadline`, or when the task is
    /// cancelled, whichever comes first.
    func wait(_ ticket: Ticket, after seen: Int, until deadline: ContinuousClock.Instant) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.waitForChange(ticket, after: seen) }
            group.addTask { try? await Task.sleep(until: deadline) }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitForChange(_ ticket: Ticket, after seen: Int) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = watches.withLock { watches -> Bool in
                    guard var watched = watches[ticket.descriptor], watched.changes <= seen, !Task.isCancelled else { return true }
                    watched.waiters[ticket.id] = (seen, continuation)
                    watches[ticket.descriptor] = watched
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = watches.withLock { $0[ticket.descriptor]?.waiters.removeValue(forKey: ticket.id) }
            waiter?.continuation.resume()
        }
    }

    private func changedAll() {
        let descriptors = watches.withLock { Array($0.keys) }
        for descriptor in descriptors { changed(descriptor) }
    }

    private func changed(_ descriptor: Int32) {
        let woken = watches.withLock { watches -> [CheckedContinuation<Void, Never>] in
            guard var watched = watches[descriptor] else { return [] }
            watched.changes += 1
            let woken = watched.waiters.values.map(\.continuation)
            watched.waiters.removeAll()
            watches[descriptor] = watched
            return woken
        }
        for continuation in woken { continuation.resume() }
    }
}
