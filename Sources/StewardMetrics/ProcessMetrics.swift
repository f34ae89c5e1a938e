import CgroupFS
import Glibc

/// Steward's own process, under the names the standard Prometheus client libraries use. A value that
/// could not be read is nil and left out.
public struct ProcessReading: Sendable, Equatable {
    public var cpuSeconds: Double?
    public var residentBytes: UInt64?
    public var virtualBytes: UInt64?
    public var startTimeSeconds: Double?
    public var openFds: Int?
    public var maxFds: Int?

    public init(cpuSeconds: Double?, residentBytes: UInt64?, virtualBytes: UInt64?, startTimeSeconds: Double?, openFds: Int?, maxFds: Int?) {
        self.cpuSeconds = cpuSeconds
        self.residentBytes = residentBytes
        self.virtualBytes = virtualBytes
        self.startTimeSeconds = startTimeSeconds
        self.openFds = openFds
        self.maxFds = maxFds
    }

    /// The process now; `startTimeSeconds` is passed in because it never changes (see `startTime`).
    public static func current(startTimeSeconds: Double?) -> ProcessReading {
        var usage = rusage()
        let cpu = getrusage(RUSAGE_SELF.rawValue, &usage) == 0
            ? Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
            : nil
        let pages = (try? CgroupFile.readText("/proc/self/statm")).flatMap(statmPages)
        let pageSize = UInt64(sysconf(Int32(_SC_PAGESIZE)))
        var limit = rlimit()
        return ProcessReading(
            cpuSeconds: cpu,
            residentBytes: pages.map { $0.resident * pageSize },
            virtualBytes: pages.map { $0.size * pageSize },
            startTimeSeconds: startTimeSeconds,
            openFds: openDescriptorCount(),
            maxFds: getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 ? Int(clamping: limit.rlim_cur) : nil
        )
    }

    /// Unix time this process started: /proc/self/stat starttime (clock ticks after boot) plus the
    /// boot time in /proc/stat.
    public static func startTime() -> Double? {
        guard let stat = try? CgroupFile.readText("/proc/self/stat"),
              let system = try? CgroupFile.readText("/proc/stat") else { return nil }
        return startTime(procSelfStat: stat, procStat: system, ticksPerSecond: CgroupReader.clockTicksPerSecond)
    }

    static func startTime(procSelfStat: String, procStat: String, ticksPerSecond: UInt64) -> Double? {
        // The command name (field 2) is in parentheses and may hold spaces or ')': fields are
        // counted after the last ')'. starttime is field 22, the 20th after it.
        guard let close = procSelfStat.lastIndex(of: ")") else { return nil }
        let fields = procSelfStat[procSelfStat.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let ticks = UInt64(fields[19]),
              let bootLine = procStat.split(separator: "\n").first(where: { $0.hasPrefix("btime ") }),
              let boot = UInt64(bootLine.dropFirst("btime ".count)) else { return nil }
        return Double(boot) + Double(ticks) / Double(ticksPerSecond)
    }

    /// /proc/self/statm: "size resident shared text lib data dt", in pages.
    static func statmPages(_ text: String) -> (size: UInt64, resident: UInt64)? {
        let fields = text.split(whereSeparator: \.isWhitespace)
        guard fields.count >= 2, let size = UInt64(fields[0]), let resident = UInt64(fields[1]) else { return nil }
        return (size, resident)
    }

    /// Entries of /proc/self/fd, including the one that lists them (as client_golang counts).
    private static func openDescriptorCount() -> Int? {
        guard let directory = opendir("/proc/self/fd") else { return nil }
        defer { closedir(directory) }
        var count = 0
        while let entry = readdir(directory) {
            if entry.pointee.d_name.0 != CChar(UInt8(ascii: ".")) { count += 1 }
        }
        return count
    }

    public var families: [MetricFamily] {
        func family(_ name: String, _ kind: MetricFamily.Kind, _ help: String, _ value: Double?) -> MetricFamily {
            MetricFamily(name, kind, help: help, samples: value.map { [Sample(labels: [], value: $0)] } ?? [])
        }
        return [
            family("process_cpu_seconds_total", .counter, "User and system CPU time Steward itself has used.", cpuSeconds),
            family("process_resident_memory_bytes", .gauge, "Resident memory of Steward itself (RSS, /proc/self/statm).", residentBytes.map { Double($0) }),
            family("process_virtual_memory_bytes", .gauge, "Virtual memory size of Steward itself.", virtualBytes.map { Double($0) }),
            family("process_start_time_seconds", .gauge, "Unix time Steward started.", startTimeSeconds),
            family("process_open_fds", .gauge, "File descriptors Steward has open.", openFds.map { Double($0) }),
            family("process_max_fds", .gauge, "Steward's limit on open file descriptors (soft RLIMIT_NOFILE).", maxFds.map { Double($0) }),
        ]
    }
}
