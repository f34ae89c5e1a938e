import CgroupFS
import CgroupStats
import StewardCore

/// The one-screen memory breakdown of `steward inspect`: each memory class of the service's cgroup,
/// and the number that systemctl, docker, podman and kubectl would each show for the same cgroup, so
/// that "podman says 400 MiB but the service holds 100" is explained where it is seen.
public enum InspectReport {
    /// - Parameters:
    ///   - values: the service's samples, as /services/<name>/metrics exposes them.
    ///   - errors: files that could not be read, when the cgroup was read in this process.
    ///   - now: Unix time, for "started … ago".
    public static func render(service: String, values: MetricValues, errors: [String] = [], now: Double) -> String {
        let label = ["service": service]
        func value(_ name: String, _ extra: [String: String] = [:]) -> Double? {
            values.value(name, label.merging(extra) { _, new in new })
        }
        func memory(_ field: MemoryClasses.Field) -> Double? { value(ServiceMetrics.memoryName(field)) }
        var lines: [String] = []

        if let up = value("steward_service_up") {
            let phase = ServiceState.Phase.allCases.first { value("steward_service_state", ["state": $0.rawValue]) == 1 }
            var status = "\(service): " + (phase?.rawValue ?? (up == 1 ? "up" : "not up"))
            if let start = value("steward_service_start_time_seconds") {
                status += ", " + (up == 1 ? "started " : "last started ") + duration(now - start) + " ago"
            }
            let restarts = RestartReason.allCases.compactMap { reason in
                value("steward_service_restarts_total", ["reason": reason.rawValue]).map { "\(reason.rawValue) \(Int($0))" }
            }
            if !restarts.isEmpty { status += "; restarts: " + restarts.joined(separator: ", ") }
            lines.append(status)
        } else {
            lines.append("\(service): read from its cgroup directly (no supervisor to ask about its state)")
        }

        if let anon = memory(.anon), let usage = memory(.usage), let workingSet = memory(.workingSet) {
            lines += ["", "Memory of the service's whole cgroup, read now:"]
            func row(_ name: String, _ bytes: Double?, _ meaning: String) {
                lines.append("  " + pad(name, 13) + pad(bytes.map(Self.bytes) ?? "absent", 11, right: true) + "  " + meaning)
            }
            row("anon", anon, "heap, stacks, private mappings: what the processes allocated themselves")
            row("swap", memory(.swap), memory(.swap) == nil ? "swapped-out anon (not accounted on this host)" : "anon and shmem swapped out")
            row("file", memory(.file), "page cache, shmem included: files read or written, dropped when memory is short")
            row("  active", memory(.activeFile), "  used more than once lately: dropped last")
            row("  inactive", memory(.inactiveFile), "  dropped first")
            row("shmem", memory(.shmem), "tmpfs, /dev/shm, shared mappings: stays until deleted (or swapped)")
            row("kernel", memory(.kernel), "slab, kernel stacks, page tables, sockets")
            row("usage", usage, "all of the above but swap: what the kernel charges the cgroup")
            row("working set", workingSet, "usage − inactive file")
            if let limit = value("steward_service_anon_limit_bytes") {
                row("anon limit", limit, "Steward's guard restarts the service above it (anon + swap, + shmem if set)")
            }

            lines += ["", "What other tools show for this cgroup:"]
            func tool(_ name: String, _ shown: String, _ meaning: String) {
                lines.append("  " + pad(name, 30) + pad(shown, 11, right: true) + "  " + meaning)
            }
            tool("systemctl status (Memory:)", bytes(usage), "usage: page cache included")
            tool("docker stats (CLI ≥ 20.10)", bytes(workingSet), "working set")
            tool("kubectl top, cAdvisor", bytes(workingSet), "working set")
            tool("podman stats ≥ 5.6", bytes(workingSet), "working set")
            tool("podman stats 4.0–5.5", bytes(anon), "anon on cgroup v2; on v1 it shows usage, \(bytes(usage))")
            lines += [
                "  Page cache counts in usage and working set, never in anon. A file read twice moves to the",
                "  active list, so even the working set keeps counting it until memory runs short.",
            ]
        } else {
            lines += ["", "No memory figures: the service has no cgroup right now (not running)."]
        }

        let supervised = value("steward_service_up") != nil
        if let pids = value("steward_service_pids") { lines += ["", "Tasks now: \(Int(pids))"] }
        var other: [String] = []
        if let user = value("steward_service_cpu_seconds_total", ["mode": "user"]),
           let system = value("steward_service_cpu_seconds_total", ["mode": "system"]) {
            other.append("CPU user \(seconds(user)), system \(seconds(system))")
        }
        if let kills = value("steward_service_oom_kills_total") { other.append("OOM kills \(Int(kills))") }
        if let some = value("steward_service_memory_pressure_seconds_total", ["kind": "some"]) {
            var pressure = "memory pressure some \(seconds(some))"
            if let full = value("steward_service_memory_pressure_seconds_total", ["kind": "full"]) { pressure += ", full \(seconds(full))" }
            other.append(pressure)
        }
        if !other.isEmpty {
            // Steward sums every run's counters; a cgroup read directly only knows its own run.
            lines += ["", (supervised ? "Over all runs since Steward started: " : "Since the cgroup was made: ") + other.joined(separator: "; ")]
        }

        if !errors.isEmpty {
            lines += ["", "Could not read (left out above):"] + errors.map { "  " + $0 }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The report for a cgroup read directly, without a supervisor: `directories` holds one directory
    /// per hierarchy (see `ServiceCgroup.init(directories:layout:)`). Throws when none of them exists.
    public static func readingCgroup(directories: [String], service: String?, now: Double) throws -> String {
        let cgroup = try ServiceCgroup(directories: directories, layout: HostLayout.current())
        // Budget 0: one read, nothing to keep open.
        guard let sample = CgroupReader(cgroup: cgroup, budget: DescriptorBudget(descriptors: 0)).sample() else {
            throw CgroupFSError(path: directories.joined(separator: ", "), operation: "read the cgroup", errno: .noSuchFileOrDirectory)
        }
        let name = service ?? cgroup.name
        let families = ServiceMetrics.families([ServiceReading(name: name, supervision: nil, anonLimitBytes: nil, cgroup: sample)])
        return render(service: name, values: MetricValues(families), errors: sample.errors.map { "\($0)" }, now: now)
    }

    /// Binary units with one decimal ("100.0 MiB"); whole bytes below 1 KiB.
    static func bytes(_ value: Double) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var scaled = value
        var unit = 0
        while scaled >= 1024, unit < units.count - 1 {
            scaled /= 1024
            unit += 1
        }
        return unit == 0 ? "\(Int(value)) B" : fixed(scaled, digits: 1) + " " + units[unit]
    }

    static func seconds(_ value: Double) -> String {
        fixed(value, digits: 2) + " s"
    }

    /// printf's "%.Nf" for the non-negative values shown here. Not Foundation's String(format:): this
    /// module needs nothing else from it, and full Foundation maps some 11 MiB of libraries (ICU).
    static func fixed(_ value: Double, digits: Int) -> String {
        var scale: Int64 = 1
        for _ in 0..<digits { scale *= 10 }
        let scaled = Int64((max(0, value) * Double(scale)).rounded())
        let fraction = String(scaled % scale)
        return "\(scaled / scale)." + String(repeating: "0", count: digits - fraction.count) + fraction
    }

    /// "45s", "12m 3s", "5h 20m", "3d 4h".
    static func duration(_ seconds: Double) -> String {
        let total = max(0, Int(seconds))
        let (days, hours, minutes) = (total / 86400, total / 3600 % 24, total / 60 % 60)
        if days > 0 { return "\(days)d \(hours)h" }
        if hours > 0 { return "\(hours)h \(minutes)m" }
        if minutes > 0 { return "\(minutes)m \(total % 60)s" }
        return "\(total)s"
    }

    private static func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, width - text.count))
        return right ? fill + text : text + fill
    }
}
