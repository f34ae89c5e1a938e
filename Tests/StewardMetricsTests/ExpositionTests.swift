import StewardTestSupport
import Testing
@testable import StewardMetrics

@Suite("Exposition formats")
struct ExpositionTests {
    static let families = [
        MetricFamily("demo_temperature_celsius", .gauge, help: "A gauge with a \\ backslash,\na newline and \"quotes\".", samples: [
            Sample(labels: [Label("room", "kitchen")], value: 21.5),
            Sample(labels: [Label("room", "path\\to \"the\"\nattic")], value: -3),
        ]),
        MetricFamily("demo_requests_total", .counter, help: "A counter.", samples: [
            Sample(labels: [Label("code", "200"), Label("method", "get")], value: 1027),
        ]),
        MetricFamily("demo_unused_bytes", .gauge, help: "Has no samples, so it is left out."),
        MetricFamily("demo_special", .gauge, help: "Special values.", samples: [
            Sample(labels: [Label("v", "nan")], value: .nan),
            Sample(labels: [Label("v", "inf")], value: .infinity),
            Sample(labels: [Label("v", "-inf")], value: -.infinity),
            Sample(labels: [Label("v", "big")], value: 1e20),
            Sample(labels: [Label("v", "bytes")], value: 9_007_199_254_740_992),
            Sample(labels: [Label("v", "small")], value: 0.000123),
        ]),
    ]

    @Test("text format 0.0.4: HELP and TYPE per family, escaped labels, counters keep _total")
    func textFormat() {
        #expect(Exposition.render(Self.families, as: .text) == #"""
        # HELP demo_temperature_celsius A gauge with a \\ backslash,\na newline and "quotes".
        # TYPE demo_temperature_celsius gauge
        demo_temperature_celsius{room="kitchen"} 21.5
        demo_temperature_celsius{room="path\\to \"the\"\nattic"} -3
        # HELP demo_requests_total A counter.
        # TYPE demo_requests_total counter
        demo_requests_total{code="200",method="get"} 1027
        # HELP demo_special Special values.
        # TYPE demo_special gauge
        demo_special{v="nan"} NaN
        demo_special{v="inf"} +Inf
        demo_special{v="-inf"} -Inf
        demo_special{v="big"} 1e+20
        demo_special{v="bytes"} 9007199254740992
        demo_special{v="small"} 0.000123

        """#)
    }

    @Test("OpenMetrics 1.0: counter families without _total, quotes escaped in HELP, # EOF")
    func openMetrics() {
        let text = Exposition.render(Self.families, as: .openMetrics)
        #expect(text.hasPrefix(#"""
        # HELP demo_temperature_celsius A gauge with a \\ backslash,\na newline and \"quotes\".
        # TYPE demo_temperature_celsius gauge
        demo_temperature_celsius{room="kitchen"} 21.5
        demo_temperature_celsius{room="path\\to \"the\"\nattic"} -3
        # HELP demo_requests A counter.
        # TYPE demo_requests counter
        demo_requests_total{code="200",method="get"} 1027
        # HELP demo_special Special values.
        """#))
        #expect(text.hasSuffix("demo_special{v=\"small\"} 0.000123\n# EOF\n"))
    }

    @Test("content negotiation", arguments: [
        (nil, ExpositionFormat.text),
        ("*/*", .text),
        ("text/plain", .text),
        // What Prometheus 2.42 sends.
        ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1", .openMetrics),
        ("application/openmetrics-text", .openMetrics),
        ("application/openmetrics-text; version=0.0.1", .text),
        ("text/plain;q=0.5, application/openmetrics-text;q=0.3", .text),
        ("text/plain;q=0.5, Application/OpenMetrics-Text; q=0.9", .openMetrics),
        ("application/openmetrics-text;q=0", .text),
        ("application/json", .text),
    ] as [(String?, ExpositionFormat)])
    func negotiation(accept: String?, expected: ExpositionFormat) {
        #expect(ExpositionFormat.negotiate(accept: accept) == expected)
    }

    @Test("the text format reads back to the same values, escaped labels included")
    func roundTrip() throws {
        let values = try MetricValues(parsingText: Exposition.render(Self.families, as: .text))
        for family in Self.families {
            for sample in family.samples {
                let read = values.value(family.name, Dictionary(uniqueKeysWithValues: sample.labels.map { ($0.name, $0.value) }))
                #expect(read == sample.value || (read?.isNaN == true && sample.value.isNaN), "\(family.name) \(sample.labels)")
            }
        }
        #expect(values.value("demo_requests_total", ["code": "200"]) == nil, "labels must match exactly")
    }

    @Test("malformed text names the line", arguments: [
        ("metric{a=\"1\" 3", 1),
        ("# ok\nmetric{a=1} 3", 2),
        ("metric 3\nmetric{a=\"unterminated} 3", 2),
        ("metric three", 1),
        ("{a=\"1\"} 3", 1),
    ])
    func malformedText(text: String, line: Int) {
        #expect(throws: MetricsTextError.self) { try MetricValues(parsingText: text) }
        do {
            _ = try MetricValues(parsingText: text)
        } catch {
            #expect(error.line == line, "\(error)")
        }
    }
}
