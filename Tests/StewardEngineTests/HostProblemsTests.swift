import Foundation
import StewardConfig
import Testing
@testable import StewardEngine

/// What only the host can tell, checked when a file is loaded (`check`, `run`, reload) so that it
/// fails at once with its line, not at every start. Reads this machine's users, groups and files.
@Suite("Host checks of a config")
struct HostProblemsTests {
    static let api = "[services.api]\ncommand = [\"/bin/true\"]\n"

    func hostError(_ text: String) -> ConfigError? {
        do {
            _ = try StewardConfiguration.parse(text, file: "steward.toml", checkingHost: { $0.hostProblems() })
            return nil
        } catch {
            return error
        }
    }

    @Test("an unknown user, an unknown group and a missing or non-directory working directory are refused at their line", arguments: [
        ("user = \"no-such-user-here\"\n", "services.api.user", "unknown user \"no-such-user-here\""),
        ("user = -1\n", "services.api.user", "unknown user \"-1\""),
        ("user = \"root\"\ngroup = \"no-such-group-here\"\n", "services.api.group", "unknown group \"no-such-group-here\""),
        ("working_directory = \"/nonexistent/srv\"\n", "services.api.working_directory", "/nonexistent/srv: No such file or directory"),
        ("working_directory = \"/etc/passwd\"\n", "services.api.working_directory", "/etc/passwd: not a directory"),
    ])
    func refused(setting: String, key: String, message: String) throws {
        let error = try #require(hostError(Self.api + setting))
        #expect(error == ConfigError(file: "steward.toml", line: 3 + (setting.hasPrefix("user = \"root\"\ngroup") ? 1 : 0), key: key, message: message))
    }

    @Test("what exists passes, and without the host check a file still parses")
    func accepted() throws {
        #expect(hostError(Self.api + "user = \"root\"\ngroup = \"root\"\nworking_directory = \"/tmp\"\n") == nil)
        #expect(hostError(Self.api + "user = 0\n") == nil)
        #expect(throws: Never.self) { try StewardConfiguration.parse(Self.api + "user = \"no-such-user-here\"\n", file: "f") }
    }
}
