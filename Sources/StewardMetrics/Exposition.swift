/// A metric family as exposed: one name, type and HELP text, and its samples.
///
/// swift-prometheus (2.4) is not used: its metrics are long-lived objects that are set and later
/// emitted, its counters can only be incremented (not set to a kernel's running total), every
/// service's labelled series would have to be registered and unregistered as services come and go,
/// and it writes no OpenMetrics. Steward reads everything at scrape time, so a family is just a value
/// built for one scrape and written out.
public struct MetricFamily: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case gauge, counter
    }

    /// The name samples carry; a counter's ends in "_total" (OpenMetrics drops it from HELP and TYPE).
    public let name: String
    public let kind: Kind
    public let help: String
    public var samples: [Sample]

    public init(_ name: String, _ kind: Kind, help: String, samples: [Sample] = []) {
        precondition(kind != .counter || name.hasSuffix("_total"), "counter \(name) must end in _total")
        self.name = name
        self.kind = kind
        self.help = help
        self.samples = samples
    }

    public mutating func add(_ value: Double, _ labels: [Label]) {
        samples.append(Sample(labels: labels, value: value))
    }
}

public struct Label: Sendable, Equatable {
    public let name: String
    public let value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

public struct Sample: Sendable, Equatable {
    public let labels: [Label]
    public let value: Double

    public init(labels: [Label], value: Double) {
        self.labels = labels
        self.value = value
    }
}

/// The two text formats Prometheus scrapes.
public enum ExpositionFormat: Sendable, Equatable {
    /// Prometheus text format 0.0.4, the default.
    case text
    /// OpenMetrics 1.0.0, for clients that ask for it (Prometheus does).
    case openMetrics

    public var contentType: String {
        switch self {
        case .text: "text/plain; version=0.0.4; charset=utf-8"
        case .openMetrics: "application/openmetrics-text; version=1.0.0; charset=utf-8"
        }
    }

    /// The format an Accept header prefers: the acceptable media range with the highest q (the first
    /// on a tie). OpenMetrics only in version 1.0.0 or unversioned; anything else gets text.
    public static func negotiate(accept: String?) -> ExpositionFormat {
        guard let accept else { return .text }
        var best: (quality: Double, format: ExpositionFormat)?
        for range in accept.split(separator: ",") {
            let parts = range.split(separator: ";").map(trimmed)
            var parameters: [String: String] = [:]
            for parameter in parts.dropFirst() {
                let pair = parameter.split(separator: "=", maxSplits: 1).map(trimmed)
                if pair.count == 2 { parameters[pair[0].lowercased()] = pair[1] }
            }
            let quality = parameters["q"].flatMap(Double.init) ?? 1
            let format: ExpositionFormat? = switch parts.first?.lowercased() {
            case "application/openmetrics-text": [nil, "1.0.0"].contains(parameters["version"]) ? .openMetrics : nil
            case "text/plain", "text/*", "*/*": .text
            default: nil
            }
            if let format, quality > 0, quality > best?.quality ?? 0 { best = (quality, format) }
        }
        return best?.format ?? .text
    }

    private static func trimmed(_ text: Substring) -> String {
        var text = text
        while text.first?.isWhitespace == true { text.removeFirst() }
        while text.last?.isWhitespace == true { text.removeLast() }
        return String(text)
    }
}

/// Writes families in a text format. Families without samples are left out.
public enum Exposition {
    public static func render(_ families: [MetricFamily], as format: ExpositionFormat) -> String {
        var out = ""
        out.reserveCapacity(families.reduce(0) { $0 + 200 + $1.samples.count * 100 })
        for family in families where !family.samples.isEmpty {
            // OpenMetrics names the counter family without the suffix its samples carry.
            let familyName = format == .openMetrics && family.kind == .counter ? String(family.name.dropLast("_total".count)) : family.name
            out += "# HELP \(familyName) \(escape(family.help, quotes: format == .openMetrics))\n"
            out += "# TYPE \(familyName) \(family.kind.rawValue)\n"
            for sample in family.samples {
                out += family.name
                if !sample.labels.isEmpty {
                    out += "{"
                    for (index, label) in sample.labels.enumerated() {
                        if index > 0 { out += "," }
                        out += "\(label.name)=\"\(escape(label.value, quotes: true))\""
                    }
                    out += "}"
                }
                out += " \(formatValue(sample.value))\n"
            }
        }
        if format == .openMetrics { out += "# EOF\n" }
        return out
    }

    /// Backslash and newline are escaped everywhere; a double quote in label values (and in
    /// OpenMetrics HELP text, which the 0.0.4 format leaves as is).
    static func escape(_ text: String, quotes: Bool) -> String {
        guard text.utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\"") }) else {
            return text
        }
        var out = ""
        for character in text.unicodeScalars {
            switch character {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\"" where quotes: out += "\\\""
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }

    /// Integers (byte counts, counts) as integers up to 2^53, where every integer is exact; other
    /// values in Swift's shortest round-trip form, which Go's ParseFloat reads back to the same Double.
    static func formatValue(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) <= 0x1p53 { return String(Int64(value)) }
        return "\(value)"
    }
}
