/// The "key value" lines of a flat-keyed file (memory.stat, memory.events, memory.oom_control,
/// cpu.stat, cpuacct.stat, cgroup.events), looked up by key; every key the kernel wrote is kept.
///
/// A scrape parses one memory.stat (42 keys on v1, 51 on v2) per service. As a `[String: UInt64]`
/// that cost a heap string for every key longer than 15 bytes and a SipHash of every key, most of
/// the parse. Here the keys stay in one copy of the file's bytes, indexed by an open-addressed
/// table of FNV-1a hashes (the keys are the kernel's, so there is no adversary to hash against).
public struct FlatKeyedFields: Sendable, Equatable, CustomStringConvertible {
    /// The keys' bytes; each entry points into them.
    private let keyBytes: [UInt8]
    private let entries: [Entry]
    /// An entry's index + 1 for each slot, 0 for an empty slot; a power of two, at most half full.
    private let slots: [UInt16]

    private struct Entry {
        var keyStart: UInt32
        var keyLength: UInt32
        var value: UInt64
    }

    /// How many keys the file had.
    public var count: Int { entries.count }

    /// The value of `key`, nil if the file did not have it.
    public subscript(key: String) -> UInt64? {
        var key = key
        let found = key.withUTF8 { key in
            keyBytes.withUnsafeBufferPointer { keyBytes in
                slots.withUnsafeBufferPointer { slots in
                    entries.withUnsafeBufferPointer { entries in
                        Self.probe(key, hash: Self.hash(key), slots: slots, entries: entries, keyBytes: keyBytes)
                    }
                }
            }
        }
        guard case .entry(let index) = found else { return nil }
        return entries[index].value
    }

    /// Every key with its value, for callers that list them.
    public var dictionary: [String: UInt64] {
        Dictionary(uniqueKeysWithValues: entries.map { entry in
            (String(decoding: keyBytes[Int(entry.keyStart) ..< Int(entry.keyStart + entry.keyLength)], as: UTF8.self), entry.value)
        })
    }

    public var description: String { dictionary.description }

    /// Equal when they hold the same keys with the same values, in any order.
    public static func == (lhs: FlatKeyedFields, rhs: FlatKeyedFields) -> Bool {
        lhs.count == rhs.count && lhs.dictionary == rhs.dictionary
    }

    /// The fields of well-formed text ("key value\n" lines with unique keys and values that fit in 64
    /// bits, the last "\n" optional), or nil at the first thing that is not, for the strict parser to
    /// name. Byte by byte, without a String per key.
    init?(wellFormed text: String) {
        var text = text
        guard let parsed = text.withUTF8({ Self.parse($0) }) else { return nil }
        self = parsed
    }

    private init(keyBytes: [UInt8], entries: [Entry], slots: [UInt16]) {
        self.keyBytes = keyBytes
        self.entries = entries
        self.slots = slots
    }

    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> FlatKeyedFields? {
        var lineCount = 1
        for byte in bytes where byte == UInt8(ascii: "\n") { lineCount += 1 }
        guard lineCount < Int(UInt16.max) / 2 else { return nil }
        var slotCount = 8
        while slotCount < 2 * lineCount { slotCount *= 2 }
        var slots = [UInt16](repeating: 0, count: slotCount)
        var wellFormed = true
        let entries = [Entry](unsafeUninitializedCapacity: lineCount) { entries, count in
            wellFormed = slots.withUnsafeMutableBufferPointer { slots in
                var index = 0
                while index < bytes.count {
                    let keyStart = index
                    var hash = fnvOffsetBasis
                    while index < bytes.count, case let byte = bytes[index], byte != UInt8(ascii: " ") {
                        guard isKeyByte(byte) else { return false }
                        hash = (hash ^ UInt64(byte)) &* fnvPrime
                        index += 1
                    }
                    guard index > keyStart, index < bytes.count else { return false }
                    let key = UnsafeBufferPointer(rebasing: bytes[keyStart ..< index])
                    index += 1
                    guard let value = scanDigits(bytes, at: &index), index == bytes.count || bytes[index] == UInt8(ascii: "\n"),
                          case .empty(let slot) = probe(key, hash: hash, slots: UnsafeBufferPointer(slots), entries: UnsafeBufferPointer(rebasing: entries[..<count]), keyBytes: bytes)
                    else { return false }
                    (entries.baseAddress! + count).initialize(to: Entry(keyStart: UInt32(keyStart), keyLength: UInt32(key.count), value: value.value))
                    count += 1
                    slots[slot] = UInt16(count)
                    index += 1
                }
                return true
            }
        }
        return wellFormed ? FlatKeyedFields(keyBytes: Array(bytes), entries: entries, slots: slots) : nil
    }

    private enum Probe {
        case entry(Int)
        case empty(slot: Int)
    }

    /// Linear probing from the key's hash: its entry, or the empty slot where it would go.
    private static func probe(
        _ key: UnsafeBufferPointer<UInt8>, hash: UInt64, slots: UnsafeBufferPointer<UInt16>, entries: UnsafeBufferPointer<Entry>,
        keyBytes: UnsafeBufferPointer<UInt8>
    ) -> Probe {
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let occupant = Int(slots[slot])
            if occupant == 0 { return .empty(slot: slot) }
            let entry = entries[occupant - 1]
            if Int(entry.keyLength) == key.count, equal(key, keyBytes, at: Int(entry.keyStart)) {
                return .entry(occupant - 1)
            }
            slot = (slot + 1) & mask
        }
    }

    private static func equal(_ key: UnsafeBufferPointer<UInt8>, _ keyBytes: UnsafeBufferPointer<UInt8>, at start: Int) -> Bool {
        for offset in 0 ..< key.count where key[offset] != keyBytes[start + offset] { return false }
        return true
    }

    // FNV-1a, 64 bits.
    private static let fnvOffsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325
    private static let fnvPrime: UInt64 = 0x0000_0100_0000_01b3

    private static func hash(_ key: UnsafeBufferPointer<UInt8>) -> UInt64 {
        key.reduce(fnvOffsetBasis) { ($0 ^ UInt64($1)) &* fnvPrime }
    }
}
