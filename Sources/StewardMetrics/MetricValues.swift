/// Sample values looked up by name and labels: what `steward inspect` builds its report from, whether
/// they were collected in this process or read back from a running Steward's /metrics text, so the
/// report always says what Prometheus sees.
public struct MetricValues: Sendable, Equatable {
    private struct Key: Hashable {
        var name: String
        var labels: [String: String]
    }

    private var values: [Key: Double] = [:]

    public init(_ families: [MetricFamily]) {
        for family in families {
            for sample in family.samples {
                values[Key(name: family.name, labels: Self.dictionary(sample.labels))] = sample.value
            }
        }
    }

    /// Parses the Prometheus text format (0.0.4): comments are skipped, timestamps ignored.
    public init(parsingText text: String) throws(MetricsTextError) {
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if line.isEmpty || line.hasPrefix("#") { continue }
            var scanner = LineScanner(text: line, number: index + 1)
            let (key, value) = try scanner.sample()
            values[key] = value
        }
    }

    /// The value of the sample with exactly these labels; nil when it is absent.
    public func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        values[Key(name: name, labels: labels)]
    }

    private static func dictionary(_ labels: [Label]) -> [String: String] {
        Dictionary(labels.map { ($0.name, $0.value) }, uniquingKeysWith: { _, last in last })
    }

    private struct LineScanner {
        var rest: Substring.UnicodeScalarView
        let number: Int

        init(text: Substring, number: Int) {
            rest = text.unicodeScalars
            self.number = number
        }

        mutating func sample() throws(MetricsTextError) -> (Key, Double) {
            let name = take { $0 != "{" && $0 != " " }
            guard !name.isEmpty else { throw failure("missing metric name") }
            var labels: [String: String] = [:]
            if rest.first == "{" {
                rest.removeFirst()
                while rest.first != "}" {
                    let label = take { $0 != "=" }
                    guard rest.popFirst() == "=", rest.popFirst() == "\"" else { throw failure("expected name=\"value\" in the labels of \(name)") }
                    labels[label] = try quoted()
                    if rest.first == "," { rest.removeFirst() }
                }
                rest.removeFirst()
            }
            guard rest.popFirst() == " " else { throw failure("expected a space before the value of \(name)") }
            let text = take { $0 != " " }
            let value: Double? = switch text {
            case "NaN": .nan
            case "+Inf": .infinity
            case "-Inf": -.infinity
            default: Double(text)
            }
            guard let value else { throw failure("value '\(text)' of \(name) is not a number") }
            return (Key(name: name, labels: labels), value)
        }

        /// A label value after its opening quote, unescaping \\, \" and \n.
        private mutating func quoted() throws(MetricsTextError) -> String {
            var value = String.UnicodeScalarView()
            while let scalar = rest.popFirst() {
                switch scalar {
                case "\"": return String(value)
                case "\\":
                    switch rest.popFirst() {
                    case "n": value.append("\n")
                    case let escaped?: value.append(escaped)
                    case nil: throw failure("unfinished escape")
                    }
                default: value.append(scalar)
                }
            }
            throw failure("unterminated label value")
        }

        private mutating func take(while predicate: (Unicode.Scalar) -> Bool) -> String {
            let taken = rest.prefix(while: predicate)
            rest = rest[taken.endIndex...]
            return String(Substring(taken))
        }

        private func failure(_ message: String) -> MetricsTextError {
            MetricsTextError(line: number, message: message)
        }
    }
}

public struct MetricsTextError: Error, Equatable, CustomStringConvertible {
    public var line: Int
    public var message: String

    public var description: String { "line \(line): \(message)" }
}
