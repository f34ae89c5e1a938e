import StewardConfig
import StewardCore
import Testing

/// The checks a CLI reuses when it builds a configuration from flags rather than a file.
@Suite struct ValidationTests {
    @Test(arguments: ["a", "api", "API_2", "web-1", "_x", String(repeating: "z", count: 64), "Steward", "steward2"])
    func validNames(_ name: String) {
        #expect(ServiceConfiguration.validateName(name) == nil)
    }

    @Test(arguments: [
        ("", "1 to 64"), (String(repeating: "z", count: 65), "1 to 64"), (".", "only letters"), ("..", "only letters"),
        ("a/b", "only letters"), ("a b", "only letters"), ("é", "only letters"), ("-a", "must not start with '-'"),
        ("steward", "reserved"),
    ])
    func invalidNames(_ name: String, _ fragment: String) throws {
        let message = try #require(ServiceConfiguration.validateName(name))
        #expect(message.contains(fragment))
    }

    @Test func aValidServiceHasNoIssues() {
        #expect(ServiceConfiguration(name: "api", command: ["/bin/api"]).validate().isEmpty)
    }

    @Test func everyIssueIsReportedWithItsConfigKey() {
        let service = ServiceConfiguration(
            name: "-x",
            command: [],
            environment: ["": "1", "A=B": "2", "OK": "3"],
            workingDirectory: "relative",
            user: "",
            group: "",
            backoff: BackoffPolicy(initialDelay: .seconds(2), maximumDelay: .seconds(1), startLimit: -1),
            memory: MemoryGuardConfiguration(sampleInterval: .milliseconds(99))
        )
        #expect(service.validate().map(\.key) == [
            [], ["command"], ["environment", ""], ["environment", "A=B"], ["working_directory"], ["user"], ["group"],
            ["restart_delay_max"], ["start_limit"], ["memory", "sample_interval"],
        ])
        #expect(service.validate().last?.description == "memory.sample_interval: must be at least 100ms")
    }

    @Test func configurationIssuesArePrefixedWithTheServicePath() {
        let configuration = StewardConfiguration(
            cgroupRoot: "a/../b",
            services: [
                ServiceConfiguration(name: "b", command: ["/bin/b"], environment: ["A=B": "1"]),
                ServiceConfiguration(name: "a", command: ["/bin/a"]),
                ServiceConfiguration(name: "a", command: ["/bin/a2"]),
            ]
        )
        #expect(configuration.services.map(\.command) == [["/bin/a"], ["/bin/a2"], ["/bin/b"]])
        #expect(configuration.validate().map(\.description) == [
            "cgroup.root: must not contain \".\" or \"..\" components",
            "services.a: duplicate service name",
            "services.b.environment.\"A=B\": invalid environment variable name: must be non-empty, without '='",
        ])
        #expect(StewardConfiguration().validate() == [ConfigIssue(key: ["services"], message: "no services defined")])
    }

    @Test("max_connections fits in an eighth of the open-file limit", arguments: [
        (64, 1024, 64), (64, 256, 32), (65_536, 256, 32), (64, 4, 1), (10, 1_048_576, 10),
    ])
    func connectionsFitTheOpenFileLimit(asked: Int, openFileLimit: Int, expected: Int) {
        #expect(MetricsListenLimits(maxConnections: asked).fitting(openFileLimit: openFileLimit).maxConnections == expected)
    }
}
