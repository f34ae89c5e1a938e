import Glibc

/// A plain HTTP/1.0 GET: enough to ask a running Steward for a service's metrics (`steward inspect`).
/// An HTTP client library would be linked into every Steward process for this one command: libcurl
/// (through FoundationNetworking) alone added 6 MiB to Steward's resident memory.
public enum MetricsClient {
    public struct Answer: Sendable, Equatable {
        public var status: Int
        public var body: String
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Connects to `host:port`, sends the request and reads until the server closes the connection
    /// (asked for with "Connection: close"), giving up after `timeoutSeconds` of silence.
    public static func get(host: String, port: Int, path: String, timeoutSeconds: Int = 10) throws(Failure) -> Answer {
        let fd = try connect(host: host, port: port, timeoutSeconds: timeoutSeconds)
        defer { close(fd) }
        var request = Array("GET \(path) HTTP/1.0\r\nHost: \(host):\(port)\r\nAccept: text/plain\r\nConnection: close\r\n\r\n".utf8)
        while !request.isEmpty {
            let sent = send(fd, request, request.count, Int32(MSG_NOSIGNAL))
            guard sent > 0 else { throw failure("send to \(host):\(port)") }
            request.removeFirst(sent)
        }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count == 0 { break }
            guard count > 0 else { throw failure("read from \(host):\(port)") }
            response += buffer[..<count]
        }
        return try parse(response)
    }

    /// "HTTP/1.x NNN reason\r\nheaders\r\n\r\nbody".
    static func parse(_ response: [UInt8]) throws(Failure) -> Answer {
        let separator = Array("\r\n\r\n".utf8)
        guard let end = response.indices.first(where: { response[$0...].starts(with: separator) }) else {
            throw Failure(description: "malformed HTTP response: no end of headers")
        }
        let statusLine = String(decoding: response[..<end], as: UTF8.self).prefix { $0 != "\r" }.split(separator: " ")
        guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/"), let status = Int(statusLine[1]) else {
            throw Failure(description: "malformed HTTP status line")
        }
        return Answer(status: status, body: String(decoding: response[(end + separator.count)...], as: UTF8.self))
    }

    private static func connect(host: String, port: Int, timeoutSeconds: Int) throws(Failure) -> Int32 {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var addresses: UnsafeMutablePointer<addrinfo>?
        let resolved = getaddrinfo(host, String(port), &hints, &addresses)
        guard resolved == 0 else { throw Failure(description: "cannot resolve \(host): \(String(cString: gai_strerror(resolved)))") }
        defer { freeaddrinfo(addresses) }
        var lastError = ECONNREFUSED
        var next = addresses
        while let address = next {
            next = address.pointee.ai_next
            let fd = socket(address.pointee.ai_family, address.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), address.pointee.ai_protocol)
            guard fd >= 0 else { continue }
            var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            if Glibc.connect(fd, address.pointee.ai_addr, address.pointee.ai_addrlen) == 0 { return fd }
            lastError = errno
            close(fd)
        }
        throw Failure(description: "cannot connect to \(host):\(port): \(String(cString: strerror(lastError)))")
    }

    private static func failure(_ what: String) -> Failure {
        Failure(description: "\(what): \(String(cString: strerror(errno)))")
    }
}
