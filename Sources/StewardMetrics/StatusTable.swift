import Glibc

/// `steward ctl status` for a person: one row per service, read at a glance.
///
///     NAME    STATE            PID   UPTIME  RESTARTS          ANON      SHMEM     FILE       LIMIT    LAST EXIT
///     api     running          4242  3h 12m  1 (manual)        20.1 MiB  0 B       1.8 GiB    512 MiB  -
///     worker  backoff in 3.2s  -     -       4 (exit 4)        -         -         -          -        exit 1
public enum StatusTable {
    public static func render(_ services: [ServiceStatus]) -> String {
        let header = ["NAME", "STATE", "PID", "UPTIME", "RESTARTS", "ANON", "SHMEM", "FILE", "LIMIT", "LAST EXIT"]
        let rows = services.map(row)
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        var text = ""
        for cells in [header] + rows {
            let padded = zip(cells, widths).map { cell, width in cell + String(repeating: " ", count: width - cell.count) }
            var line = padded.joined(separator: "  ")
            while line.last == " " { line.removeLast() }
            text += line + "\n"
        }
        for service in services {
            if let detail = service.detail, service.state == "failed" { text += "\(service.name): \(detail)\n" }
        }
        return text
    }

    static func row(_ service: ServiceStatus) -> [String] {
        var state = service.state
        if let remaining = service.backoffRemainingSeconds { state += " in " + InspectReport.fixed(remaining, digits: 1) + "s" }
        let total = service.restarts.values.reduce(0, +)
        let reasons = service.restarts.filter { $0.value > 0 }.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
        let restarts = total == 0 ? "0" : "\(total) (\(reasons.joined(separator: ", ")))"
        let memory = service.memory
        let lastExit = service.lastExit.map { exit in
            if let code = exit.code { return "exit \(code)" }
            return exit.signal.map { "signal \(signalName($0))" } ?? "-"
        }
        return [
            service.name, state, service.pid.map(String.init) ?? "-", service.uptimeSeconds.map(InspectReport.duration) ?? "-", restarts,
            bytes(memory?.anonBytes), bytes(memory?.shmemBytes),
            bytes(memory.map { $0.activeFileBytes + $0.inactiveFileBytes }), bytes(service.anonLimitBytes), lastExit ?? "-",
        ]
    }

    private static func bytes(_ value: UInt64?) -> String {
        value.map { InspectReport.bytes(Double($0)) } ?? "-"
    }

    private static func signalName(_ number: Int32) -> String {
        guard let name = strsignal(number) else { return String(number) }
        return "\(number) (\(String(cString: name)))"
    }
}
