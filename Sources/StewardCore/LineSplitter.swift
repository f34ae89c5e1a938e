/// Splits a byte stream into lines with a bounded buffer: a line longer than `maximumLineBytes`
/// is emitted in pieces of that size, so a service that prints without newlines cannot make the
/// supervisor's memory grow.
public struct LineSplitter: Sendable {
    public let maximumLineBytes: Int
    private var pending: [UInt8] = []

    public init(maximumLineBytes: Int = 16 * 1024) {
        precondition(maximumLineBytes > 0)
        self.maximumLineBytes = maximumLineBytes
    }

    /// Bytes held back waiting for a newline (never more than `maximumLineBytes`).
    public var pendingByteCount: Int { pending.count }

    /// Feeds bytes and returns the complete lines (without their newline) they finish.
    public mutating func feed<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> [[UInt8]] {
        var lines: [[UInt8]] = []
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                lines.append(pending)
                pending.removeAll(keepingCapacity: true)
            } else {
                pending.append(byte)
                if pending.count == maximumLineBytes {
                    lines.append(pending)
                    pending.removeAll(keepingCapacity: true)
                }
            }
        }
        return lines
    }

    /// The unterminated rest, when the stream ends.
    public mutating func finish() -> [UInt8]? {
        defer { pending.removeAll() }
        return pending.isEmpty ? nil : pending
    }
}
