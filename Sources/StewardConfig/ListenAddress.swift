/// A TCP address to listen on: `127.0.0.1:9464`, `localhost:9464`, or `[::1]:9464` for IPv6.
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    /// A host name or IP address; an IPv6 address is kept without its brackets.
    public var host: String
    public var port: Int

    public static let defaultMetrics = ListenAddress(host: "127.0.0.1", port: 9464)

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `host:port` with a port in 0...65535; an IPv6 host must be bracketed so its colons are not
    /// mistaken for the port separator.
    public static func parse(_ text: String) -> ListenAddress? {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        var host = text[..<colon]
        let port = text[text.index(after: colon)...]
        if host.first == "[", host.last == "]" {
            host = host.dropFirst().dropLast()
            guard host.contains(":") else { return nil }
        } else if host.contains(":") || host.contains("[") || host.contains("]") {
            return nil
        }
        guard !host.isEmpty, !host.contains(where: \.isWhitespace),
            !port.isEmpty, port.allSatisfy(\.isDigit), let number = Int(port), number <= 65535
        else { return nil }
        return ListenAddress(host: String(host), port: number)
    }

    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
