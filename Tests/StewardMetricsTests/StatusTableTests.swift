import Foundation
import StewardMetrics
import Testing

@Suite struct StatusTableTests {
    static let running = ServiceStatusFixture.json(
        name: "api", state: "running", pid: 4242, uptime: 11_530, restarts: ["manual": 1, "exit": 2],
        memory: #"{"anon_bytes": 21076377, "swap_bytes": 0, "shmem_bytes": 0, "active_file_bytes": 1073741824, "inactive_file_bytes": 858993459, "kernel_bytes": 1048576, "usage_bytes": 1954000000}"#,
        limit: 536870912)
    static let backoff = ServiceStatusFixture.json(
        name: "worker", state: "backoff", detail: "restart after exit", backoff: 3.24, restarts: ["exit": 4], lastExit: #"{"code": 1, "signal": null}"#)
    static let failed = ServiceStatusFixture.json(
        name: "cron", state: "failed", detail: "start limit reached: 5 runs shorter than 10s (last: exit status 2)", lastExit: #"{"code": null, "signal": 9}"#)

    @Test("a row per service, columns aligned, a failed service's reason under the table")
    func table() throws {
        let services = try [Self.running, Self.backoff, Self.failed].map { try JSONDecoder().decode(ServiceStatus.self, from: Data($0.utf8)) }
        #expect(StatusTable.render(services) == """
            NAME    STATE            PID   UPTIME  RESTARTS              ANON      SHMEM  FILE     LIMIT      LAST EXIT
            api     running          4242  3h 12m  3 (exit 2, manual 1)  20.1 MiB  0 B    1.8 GiB  512.0 MiB  -
            worker  backoff in 3.2s  -     -       4 (exit 4)            -         -      -        -          exit 1
            cron    failed           -     -       0                     -         -      -        -          signal 9 (Killed)
            cron: start limit reached: 5 runs shorter than 10s (last: exit status 2)

            """)
    }

    @Test("the JSON keeps every key, unknown values as null, and reads back to the same value")
    func roundTrip() throws {
        let status = try JSONDecoder().decode(ServiceStatus.self, from: Data(Self.backoff.utf8))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let text = String(decoding: try encoder.encode(status), as: UTF8.self)
        #expect(text.contains(#""memory":null"#) && text.contains(#""pid":null"#) && text.contains(#""last_exit":{"code":1,"signal":null}"#), "\(text)")
        #expect(try JSONDecoder().decode(ServiceStatus.self, from: Data(text.utf8)) == status)
    }
}

enum ServiceStatusFixture {
    static func json(
        name: String, state: String, detail: String? = nil, pid: Int? = nil, uptime: Double? = nil, backoff: Double? = nil,
        restarts: [String: Int] = [:], lastExit: String = "null", memory: String = "null", limit: Int? = nil
    ) -> String {
        let reasons = ["exit", "signal", "anon_memory", "manual", "spawn_failure", "start_timeout"]
            .map { "\"\($0)\": \(restarts[$0, default: 0])" }.joined(separator: ", ")
        func value(_ any: Any?) -> String {
            switch any {
            case let text as String: "\"\(text)\""
            case let number?: "\(number)"
            case nil: "null"
            }
        }
        return """
            {"name": "\(name)", "state": "\(state)", "detail": \(value(detail)), "pid": \(value(pid)), "uptime_seconds": \(value(uptime)),
             "backoff_remaining_seconds": \(value(backoff)), "restarts": {\(reasons)}, "last_exit": \(lastExit), "memory": \(memory),
             "anon_limit_bytes": \(value(limit)), "status_text": null}
            """
    }
}
