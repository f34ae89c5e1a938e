/// Durations written as text: one or more `<integer><unit>` parts, such as `250ms`, `10s`, `5m`,
/// `1h`, `1m30s` or `0s`. Units: us, ms, s, m, h. A bare number is rejected: its unit is never guessed.
public enum DurationText {
    private static let units: [(name: Substring, microseconds: Int64)] = [
        ("h", 3_600_000_000), ("m", 60_000_000), ("s", 1_000_000), ("ms", 1_000), ("us", 1),
    ]

    public static func parse(_ text: String) -> Duration? {
        guard !text.isEmpty else { return nil }
        var rest = Substring(text)
        var total: Int64 = 0
        while !rest.isEmpty {
            let digits = rest.prefix(while: \.isDigit)
            let unit = rest.dropFirst(digits.count).prefix(while: \.isLetter)
            guard let count = Int64(digits),
                let scale = units.first(where: { $0.name == unit })?.microseconds
            else { return nil }
            let (part, overflow) = count.multipliedReportingOverflow(by: scale)
            let (sum, sumOverflow) = total.addingReportingOverflow(part)
            guard !overflow, !sumOverflow else { return nil }
            total = sum
            rest = rest.dropFirst(digits.count + unit.count)
        }
        return .microseconds(total)
    }

    /// The compound spelling `parse` reads back: 90s → "1m30s", 0 → "0s". Below 1us is dropped.
    public static func format(_ duration: Duration) -> String {
        if duration < .zero { return "-" + format(.zero - duration) }
        let (seconds, attoseconds) = duration.components
        let microseconds = attoseconds / 1_000_000_000_000
        let parts: [(Int64, String)] = [
            (seconds / 3600, "h"), (seconds / 60 % 60, "m"), (seconds % 60, "s"),
            (microseconds / 1000, "ms"), (microseconds % 1000, "us"),
        ]
        let text = parts.filter { $0.0 != 0 }.map { "\($0.0)\($0.1)" }.joined()
        return text.isEmpty ? "0s" : text
    }
}
