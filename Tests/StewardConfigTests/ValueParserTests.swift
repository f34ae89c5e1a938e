import StewardConfig
import Testing

@Suite struct ValueParserTests {
    @Test(arguments: [
        ("0", 0), ("4096", 4096), ("100B", 100), ("1K", 1024), ("1k", 1024), ("1KB", 1024), ("1KiB", 1024),
        ("2kib", 2048), ("512M", 512 << 20), ("512MB", 512 << 20), ("512MiB", 512 << 20), ("1G", 1 << 30),
        ("1GiB", 1 << 30), ("3T", 3 << 40), ("3TiB", 3 << 40), ("1.5GiB", 1536 << 20), ("0.5K", 512),
        ("1.0009765625K", 1025), ("1.5B", 1), ("1.999", 1), ("007M", 7 << 20),
        ("16777215.99999999999999999TiB", .max), ("1.0000000000000000000K", 1024),
        ("1.00000000000000000000K", nil),  // 20 fraction digits: 10^20 does not fit in UInt64
        ("16777215TiB", UInt64(16_777_215) << 40), ("16777216TiB", nil), ("99999999999TiB", nil),
        ("18446744073709551615", .max), ("18446744073709551616", nil), ("18446744073709551615.5", .max),
        ("", nil), ("M", nil), ("-1", nil), ("+1", nil), ("1.", nil), (".5K", nil), ("1.2.3", nil),
        ("1 MiB", nil), ("1MiBs", nil), ("1Mi", nil), ("1P", nil), ("1e3", nil), ("1_000", nil),
    ] as [(String, UInt64?)])
    func byteSizeParse(_ text: String, _ bytes: UInt64?) {
        #expect(ByteSize.parse(text) == bytes)
    }

    @Test(arguments: [
        (0, "0B"), (1000, "1000B"), (1024, "1KiB"), (1536, "1536B"), (1536 << 20, "1536MiB"), (512 << 20, "512MiB"),
        (1 << 30, "1GiB"), (5 << 40, "5TiB"), (1 << 50, "1024TiB"), (.max, "18446744073709551615B"),
    ] as [(UInt64, String)])
    func byteSizeFormatRoundTrips(_ bytes: UInt64, _ text: String) {
        #expect(ByteSize.format(bytes) == text)
        #expect(ByteSize.parse(text) == bytes)
    }

    @Test(arguments: [
        ("0s", .zero), ("250ms", .milliseconds(250)), ("10s", .seconds(10)), ("5m", .seconds(300)), ("1h", .seconds(3600)),
        ("1m30s", .seconds(90)), ("1h2m3s4ms5us", .seconds(3723) + .microseconds(4005)), ("30s1m", .seconds(90)),
        ("750us", .microseconds(750)), ("0ms", .zero), ("2562047788h", .seconds(2_562_047_788 * 3600)),
        ("2562047789h", nil), ("9223372036854775807us", .microseconds(Int64.max)), ("9223372036854775808us", nil),
        ("2562047788h2562047788h", nil),
        ("", nil), ("10", nil), ("s", nil), ("10x", nil), ("1.5s", nil), ("-5s", nil), ("+5s", nil), ("10 s", nil),
        ("10S", nil), ("1d", nil), ("10ns", nil), ("5µs", nil), ("1m30", nil),
    ] as [(String, Duration?)])
    func durationParse(_ text: String, _ duration: Duration?) {
        #expect(DurationText.parse(text) == duration)
    }

    @Test(arguments: [
        (.zero, "0s"), (.milliseconds(100), "100ms"), (.seconds(90), "1m30s"), (.seconds(3600), "1h"),
        (.seconds(90_061) + .microseconds(1001), "25h1m1s1ms1us"), (.microseconds(1), "1us"), (.seconds(-90), "-1m30s"),
    ] as [(Duration, String)])
    func durationFormatRoundTrips(_ duration: Duration, _ text: String) {
        #expect(DurationText.format(duration) == text)
        #expect(DurationText.parse(text) == duration || duration < .zero)
    }

    @Test func durationFormatDropsBelowAMicrosecond() {
        #expect(DurationText.format(.nanoseconds(1500)) == "1us")
        #expect(DurationText.format(.nanoseconds(999)) == "0s")
    }

    @Test(arguments: [
        ("TERM", 15), ("SIGTERM", 15), ("term", 15), ("SigTerm", 15), ("INT", 2), ("SIGINT", 2), ("HUP", 1), ("QUIT", 3),
        ("KILL", 9), ("USR1", 10), ("USR2", 12), ("WINCH", 28), ("15", 15), ("1", 1), ("64", 64),
        ("0", nil), ("65", nil), ("-15", nil), ("+15", nil), ("99999999999", nil), ("", nil), ("SIG", nil),
        ("FOO", nil), ("SIGSIGTERM", nil), (" TERM", nil), ("15s", nil),
    ] as [(String, Int32?)])
    func signalParse(_ text: String, _ signal: Int32?) {
        #expect(SignalName.parse(text) == signal)
    }

    @Test(arguments: [(15, "SIGTERM"), (9, "SIGKILL"), (10, "SIGUSR1"), (11, "SIGSEGV"), (42, "42")] as [(Int32, String)])
    func signalNameRoundTrips(_ signal: Int32, _ name: String) {
        #expect(SignalName.name(signal) == name)
        #expect(SignalName.parse(name) == signal)
    }

    @Test(arguments: [
        ("127.0.0.1:9464", "127.0.0.1", 9464), ("[::1]:9464", "::1", 9464), ("0.0.0.0:0", "0.0.0.0", 0),
        ("localhost:65535", "localhost", 65535), ("[fe80::1%eth0]:80", "fe80::1%eth0", 80),
    ] as [(String, String, Int)])
    func listenAddressParseRoundTrips(_ text: String, _ host: String, _ port: Int) {
        #expect(ListenAddress.parse(text) == ListenAddress(host: host, port: port))
        #expect(ListenAddress(host: host, port: port).description == text)
    }

    @Test(arguments: [
        "", "9464", ":9464", "localhost", "localhost:", "::1:9464", "[::1]9464", "[::1]:", "[127.0.0.1]:80",
        "[]:80", "host:65536", "host:-1", "host:+80", "host:80a", "my host:80", "[::1:80",
    ])
    func listenAddressRejects(_ text: String) {
        #expect(ListenAddress.parse(text) == nil)
    }
}
