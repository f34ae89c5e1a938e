import CgroupStats

/// The services' cumulative counters as last recorded, so that a Steward started after a crash
/// carries on from them: `steward_service_restarts_total` and the cgroup counters (CPU, OOM kills,
/// pressure) must never go down, or Prometheus takes the drop for a counter reset.
///
/// The text is versioned and read strictly: anything unexpected is an error naming the line, and the
/// caller then starts the counters from zero (as before there were checkpoints) rather than guess.
public struct CounterCheckpoint: Sendable, Equatable {
    public static let version = 1

    public var services: [String: Entry]

    public init(services: [String: Entry] = [:]) {
        self.services = services
    }

    /// One service's counters.
    public struct Entry: Sendable, Equatable {
        public var restarts: [RestartReason: Int]
        /// The highest cgroup counters any reader was given: what Prometheus may have seen.
        public var reported: CgroupCounters
        /// The counters of the runs whose cgroups are gone.
        public var endedRuns: CgroupCounters
        /// What the live run's cgroup held when the run began; nil when no run was live.
        public var liveRunBaseline: CgroupCounters?

        public init(restarts: [RestartReason: Int] = [:], reported: CgroupCounters = .none, endedRuns: CgroupCounters = .none,
                    liveRunBaseline: CgroupCounters? = nil) {
            self.restarts = restarts
            self.reported = reported
            self.endedRuns = endedRuns
            self.liveRunBaseline = liveRunBaseline
        }

        /// Where the counters of a new Steward start: the ended runs', plus what the cgroup of the
        /// run that was live at the crash (`leftover`, still there when nobody removed it) counted
        /// since it began; never below what was reported, so nothing a scrape saw goes back. With no
        /// live run recorded, a leftover cgroup is not added: its counters may be in the ended runs'
        /// already (its removal failed), and counting them twice would be as wrong as losing them.
        public func resumedCounters(leftover: CgroupCounters?) -> CgroupCounters {
            var counted = endedRuns
            if let leftover, let liveRunBaseline { counted = counted + leftover.since(liveRunBaseline) }
            return counted.fieldwiseMax(reported)
        }
    }

    // MARK: text

    /// "steward-counters 1", then per service a "service NAME" line followed by one line per section:
    /// "restarts REASON=COUNT ...", "reported", "ended" and (with a live run) "live_baseline", each
    /// with its counters as KEY=VALUE; absent values are left out.
    public var text: String {
        var lines = ["steward-counters \(Self.version)"]
        for name in services.keys.sorted() {
            let entry = services[name]!
            lines.append("service \(name)")
            lines.append((["restarts"] + RestartReason.allCases.compactMap { reason in entry.restarts[reason].map { "\(reason.rawValue)=\($0)" } }).joined(separator: " "))
            for (section, counters) in [(Section.reported, entry.reported), (.ended, entry.endedRuns), (.liveBaseline, entry.liveRunBaseline)] {
                guard let counters else { continue }
                lines.append(([section.rawValue] + CounterField.allCases.compactMap { field in field.text(in: counters).map { "\(field.rawValue)=\($0)" } }).joined(separator: " "))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private enum Section: String {
        case restarts, reported, ended
        case liveBaseline = "live_baseline"
    }

    public init(parsing text: String, file: String) throws(CgroupParseError) {
        guard text.hasSuffix("\n") else { throw CgroupParseError(file: file, line: nil, message: "truncated: the last line does not end") }
        var services: [String: Entry] = [:]
        var current: (name: String, entry: Entry, seen: Set<String>)?
        for (index, line) in text.dropLast().split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            func failure(_ message: String) -> CgroupParseError {
                CgroupParseError(file: file, line: index + 1, message: message)
            }
            let words = line.split(separator: " ", omittingEmptySubsequences: false)
            if index == 0 {
                guard line == "steward-counters \(Self.version)" else {
                    throw failure("expected 'steward-counters \(Self.version)', got '\(line.prefix(64))' (a checkpoint of another version?)")
                }
            } else if words.count == 2, words[0] == "service" {
                let name = String(words[1])
                guard !name.isEmpty, services[name] == nil, current?.name != name else { throw failure("empty or repeated service '\(name.prefix(64))'") }
                if let current { services[current.name] = current.entry }
                current = (name, Entry(), [])
            } else if let section = Section(rawValue: String(words[0])) {
                guard current != nil else { throw failure("'\(section.rawValue)' before any 'service' line") }
                guard current!.seen.insert(section.rawValue).inserted else { throw failure("repeated '\(section.rawValue)' line") }
                var restarts: [RestartReason: Int] = [:]
                var counters = CgroupCounters.none
                for pair in words.dropFirst() {
                    let parts = pair.split(separator: "=", omittingEmptySubsequences: false)
                    guard parts.count == 2 else { throw failure("expected KEY=VALUE, got '\(pair.prefix(64))'") }
                    let (key, value) = (String(parts[0]), parts[1])
                    if section == .restarts {
                        guard let reason = RestartReason(rawValue: key), restarts[reason] == nil else { throw failure("unknown or repeated restart reason '\(key.prefix(64))'") }
                        guard !value.isEmpty, value.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }), let count = Int(value) else {
                            throw failure("restarts \(key): '\(value.prefix(64))' is not a count")
                        }
                        restarts[reason] = count
                    } else {
                        guard let field = CounterField(rawValue: key), field.text(in: counters) == nil else { throw failure("unknown or repeated counter '\(key.prefix(64))'") }
                        guard field.set(String(value), in: &counters) else {
                            throw failure("\(key): '\(value.prefix(64))' is not a non-negative \(field == .oomKills ? "count" : "number")")
                        }
                    }
                }
                switch section {
                case .restarts: current!.entry.restarts = restarts
                case .reported: current!.entry.reported = counters
                case .ended: current!.entry.endedRuns = counters
                case .liveBaseline: current!.entry.liveRunBaseline = counters
                }
            } else {
                throw failure("expected 'service NAME' or a section (restarts, reported, ended, live_baseline), got '\(line.prefix(64))'")
            }
        }
        if let current { services[current.name] = current.entry }
        self.services = services
    }
}

/// The counters of `CgroupCounters` by their names in a checkpoint.
private enum CounterField: String, CaseIterable {
    case cpuUserSeconds = "cpu_user_seconds"
    case cpuSystemSeconds = "cpu_system_seconds"
    case oomKills = "oom_kills"
    case memoryPressureSomeSeconds = "memory_pressure_some_seconds"
    case memoryPressureFullSeconds = "memory_pressure_full_seconds"

    /// The value as the checkpoint writes it (a count for OOM kills, seconds for the rest); nil when absent.
    func text(in counters: CgroupCounters) -> String? {
        switch self {
        case .cpuUserSeconds: counters.cpuUserSeconds.map { "\($0)" }
        case .cpuSystemSeconds: counters.cpuSystemSeconds.map { "\($0)" }
        case .oomKills: counters.oomKills.map { "\($0)" }
        case .memoryPressureSomeSeconds: counters.memoryPressureSomeSeconds.map { "\($0)" }
        case .memoryPressureFullSeconds: counters.memoryPressureFullSeconds.map { "\($0)" }
        }
    }

    /// Sets the value from its text; false if that is not a non-negative count or finite number.
    func set(_ text: String, in counters: inout CgroupCounters) -> Bool {
        if self == .oomKills {
            guard !text.isEmpty, text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }), let count = UInt64(text) else { return false }
            counters.oomKills = count
            return true
        }
        guard !text.hasPrefix("+"), let seconds = Double(text), seconds.isFinite, seconds >= 0 else { return false }
        switch self {
        case .cpuUserSeconds: counters.cpuUserSeconds = seconds
        case .cpuSystemSeconds: counters.cpuSystemSeconds = seconds
        case .memoryPressureSomeSeconds: counters.memoryPressureSomeSeconds = seconds
        case .memoryPressureFullSeconds: counters.memoryPressureFullSeconds = seconds
        case .oomKills: return false
        }
        return true
    }
}
