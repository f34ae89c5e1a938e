import CStewardSpawn
@preconcurrency import Dispatch
import Glibc

/// A service's $NOTIFY_SOCKET for `ready = "notify"`: an abstract unix datagram socket that
/// receives sd_notify messages (READY=1, STATUS=...) with the sender's pid from its credentials.
final class NotifySocket: Sendable {
    /// The value for the service's NOTIFY_SOCKET ("@" marks the abstract namespace).
    let address: String
    private let fd: Int32
    private let source: DispatchSourceRead

    struct Message: Sendable {
        var sender: pid_t
        var fields: [String: String]
    }

    init(service: String, onMessage: @escaping @Sendable (Message) -> Void) throws {
        let name = "steward/\(getpid())/\(service)/\(UInt32.random(in: 0 ... .max))"
        fd = steward_notify_socket_open(name)
        guard fd >= 0 else { throw NotifySocketError(errno: errno) }
        address = "@" + name
        source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: DispatchQueue(label: "steward.notify.\(service)"))
        let fd = self.fd
        source.setEventHandler {
            var buffer = [CChar](repeating: 0, count: 4096)
            var sender: pid_t = 0
            while case let length = steward_notify_receive(fd, &buffer, buffer.count, &sender), length >= 0 {
                let text = String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
                onMessage(Message(sender: sender, fields: Self.parse(text)))
            }
        }
        source.setCancelHandler { Glibc.close(fd) }
        source.activate()
    }

    /// sd_notify's format: newline-separated KEY=VALUE assignments.
    static func parse(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            fields[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        return fields
    }

    func close() {
        source.cancel()
    }

    struct NotifySocketError: Error, CustomStringConvertible {
        var errno: Int32
        var description: String { "cannot open a notify socket: \(String(cString: strerror(errno)))" }
    }
}
