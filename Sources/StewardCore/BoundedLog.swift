/// The most recent entries of a stream, bounded by count and by bytes: appending past either bound
/// forgets the oldest entries, so memory stays bounded whatever a service prints.
public struct BoundedLog<Entry: Sendable>: Sendable {
    public let maximumEntries: Int
    public let maximumBytes: Int
    private var entries: [(entry: Entry, bytes: Int)?]
    /// Where the oldest entry is; entries run from here, wrapping around.
    private var start = 0
    public private(set) var count = 0
    public private(set) var byteCount = 0

    public init(maximumEntries: Int, maximumBytes: Int) {
        precondition(maximumEntries > 0 && maximumBytes > 0)
        self.maximumEntries = maximumEntries
        self.maximumBytes = maximumBytes
        entries = []
    }

    /// Adds `entry`, which costs `bytes`; one costing more than `maximumBytes` alone is kept alone.
    public mutating func append(_ entry: Entry, bytes: Int) {
        while count > 0 && (count == maximumEntries || byteCount + bytes > maximumBytes) {
            dropOldest()
        }
        // The storage grows to the largest count ever held, not to maximumEntries up front.
        if count == entries.count {
            if start != 0 {
                entries = Array(entries[start...] + entries[..<start])
                start = 0
            }
            entries.append((entry, bytes))
        } else {
            entries[(start + count) % entries.count] = (entry, bytes)
        }
        count += 1
        byteCount += bytes
    }

    /// The newest `limit` entries (all of them without a limit), oldest first.
    public func newest(_ limit: Int? = nil) -> [Entry] {
        let taken = min(count, max(0, limit ?? count))
        return (count - taken ..< count).map { entries[(start + $0) % entries.count]!.entry }
    }

    private mutating func dropOldest() {
        byteCount -= entries[start]!.bytes
        entries[start] = nil
        start = (start + 1) % entries.count
        count -= 1
        if count == 0 { start = 0; entries.removeAll() }
    }
}
