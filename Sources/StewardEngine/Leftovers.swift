import CgroupFS
import CgroupStats
import Glibc
import Logging
import StewardConfig

/// What an earlier Steward left behind when it died (kill -9, a crash, an OOM kill) with its
/// services still running: service cgroups that still hold processes. Starting the services again
/// beside them would run each twice, and the new runs could not even have their cgroups ("cgroup
/// already holds process …"). So before anything starts, each leftover cgroup is stopped as a stop
/// would (the service's stop signal to every process, its stop timeout, then SIGKILL to the whole
/// cgroup) and removed; what was found is logged.
///
/// Only the cgroups of configured services are looked at: a directory of another name below the
/// root is not known to be Steward's (with the default root, Steward's own cgroup, that may be the
/// whole hierarchy when Steward runs in the root cgroup).
enum Leftovers {
    /// Stops and removes the populated cgroups of `services`, side by side. Not when another live
    /// Steward uses the same cgroup root (it holds the root's lock): then they may be its services,
    /// and starting one of the same name fails as it always did ("cgroup already holds process").
    static func stopAll(_ services: [ServiceConfiguration], in tree: CgroupTree, logger: Logger) async {
        guard tree.ownsRootAlone else {
            logger.notice("another Steward uses this cgroup root: populated service cgroups are left to it")
            return
        }
        await withTaskGroup(of: Void.self) { group in
            for service in services {
                let cgroup = tree.service(named: service.name)
                guard (try? cgroup.isPopulated) == true else { continue }
                group.addTask { await stop(cgroup, signal: service.stopSignal, timeout: service.stopTimeout, logger: logger) }
            }
        }
    }

    private static func stop(_ cgroup: ServiceCgroup, signal: Int32, timeout: Duration, logger: Logger) async {
        let pids = (try? cgroup.allPids()) ?? []
        let oldest = pids.compactMap(runningSeconds).max()
        logger.warning(
            "found \(pids.count) process(es) left in cgroup \(cgroup.name) by an earlier Steward (pids \(pids.map(String.init).joined(separator: ", "))\(oldest.map { "; the oldest has run for \(Int($0)) s" } ?? "")): stopping them before anything starts",
            metadata: ["service": "\(cgroup.name)"]
        )
        do {
            try cgroup.signalAll(signal)
            if await !cgroup.waitUntilEmpty(timeout: timeout) {
                logger.warning("leftover processes in \(cgroup.name) outlived the stop timeout: killing the cgroup", metadata: ["service": "\(cgroup.name)"])
                try cgroup.killAll()
                _ = await cgroup.waitUntilEmpty(timeout: .seconds(10))
            }
            try cgroup.remove()
        } catch {
            logger.error("cannot stop the leftover cgroup \(cgroup.name): \(error)", metadata: ["service": "\(cgroup.name)"])
        }
    }

    /// How long `pid` has run, from /proc; nil if it is gone or unreadable.
    private static func runningSeconds(_ pid: pid_t) -> Double? {
        guard let stat = try? CgroupFile.readText("/proc/\(pid)/stat"), let uptime = try? CgroupFile.readText("/proc/uptime"),
              let started = try? ProcStat.startTicks(parsing: stat, file: "/proc/\(pid)/stat"),
              let now = try? ProcStat.uptimeSeconds(parsing: uptime, file: "/proc/uptime") else { return nil }
        return max(0, now - Double(started) / Double(CgroupReader.clockTicksPerSecond))
    }
}
