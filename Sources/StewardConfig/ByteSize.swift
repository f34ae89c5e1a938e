/// Byte counts written as text, such as memory limits.
///
/// Digits, optionally with a decimal fraction, then an optional unit: `4096`, `512MiB`, `1.5GiB`.
/// Every multiple is binary, however it is spelled: K, KB and KiB all mean 1024 bytes, and likewise
/// M (2^20), G (2^30) and T (2^40). B or no unit means bytes. Units ignore case (`k`, `mib`).
/// A fraction is rounded down to a whole byte. Values beyond `UInt64.max` are rejected, never wrapped.
public enum ByteSize {
    /// K, M, G, T: 1024 to the power of (index + 1).
    private static let prefixes: [Character] = ["K", "M", "G", "T"]

    public static func parse(_ text: String) -> UInt64? {
        let number = text.prefix { $0.isDigit || $0 == "." }
        guard let multiplier = multiplier(unit: text.dropFirst(number.count).uppercased()) else { return nil }
        let parts = number.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let whole = UInt64(parts[0]) else { return nil }
        var (bytes, overflow) = whole.multipliedReportingOverflow(by: multiplier)
        guard !overflow else { return nil }
        if parts.count == 2 {
            // fraction / 10^digits of the multiplier; 19 digits is as many as 10^digits fits in UInt64.
            let digits = parts[1]
            guard (1...19).contains(digits.count), let fraction = UInt64(digits) else { return nil }
            let scale = (0..<digits.count).reduce(1 as UInt64) { value, _ in value * 10 }
            let fractionBytes = scale.dividingFullWidth(multiplier.multipliedFullWidth(by: fraction)).quotient
            (bytes, overflow) = bytes.addingReportingOverflow(fractionBytes)
            guard !overflow else { return nil }
        }
        return bytes
    }

    /// The shortest exact spelling in the largest binary unit: 536870912 → "512MiB", 1000 → "1000B".
    public static func format(_ bytes: UInt64) -> String {
        for (index, prefix) in prefixes.enumerated().reversed() {
            let multiplier: UInt64 = 1 << (10 * (index + 1))
            if bytes != 0, bytes.isMultiple(of: multiplier) { return "\(bytes / multiplier)\(prefix)iB" }
        }
        return "\(bytes)B"
    }

    /// `unit` upper-cased: "" or "B" is 1; "K", "KB" or "KIB" is 1024; and so on.
    private static func multiplier(unit: String) -> UInt64? {
        if unit.isEmpty || unit == "B" { return 1 }
        guard let first = unit.first, let index = prefixes.firstIndex(of: first),
            ["", "B", "IB"].contains(unit.dropFirst())
        else { return nil }
        return 1 << (10 * (index + 1))
    }
}
