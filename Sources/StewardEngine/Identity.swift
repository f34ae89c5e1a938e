import Glibc
import StewardConfig
import StewardTOML

/// Resolves `user` / `group` from the config to ids, as systemd's User=/Group= do: the user's
/// primary group and supplementary groups unless a group is named.
enum IdentityResolver {
    struct Resolved {
        var identity: SpawnSpec.Identity
        var home: String
        var userName: String
    }

    static func resolve(user: String, group: String?) throws(ResolveError) -> Resolved {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16 * 1024)
        if let uid = uid_t(user) {
            getpwuid_r(uid, &entry, &buffer, buffer.count, &result)
        } else {
            getpwnam_r(user, &entry, &buffer, buffer.count, &result)
        }
        guard result != nil else { throw ResolveError(key: "user", message: "unknown user \(user.quotedForMessage)") }
        let name = String(cString: entry.pw_name)
        var gid = entry.pw_gid
        if let group {
            gid = try resolveGroup(group)
        }
        var count: Int32 = 64
        var groups = [gid_t](repeating: 0, count: Int(count))
        if getgrouplist(entry.pw_name, gid, &groups, &count) < 0 {
            groups = [gid_t](repeating: 0, count: Int(count))
            getgrouplist(entry.pw_name, gid, &groups, &count)
        }
        return Resolved(
            identity: .init(uid: entry.pw_uid, gid: gid, groups: Array(groups.prefix(Int(count)))),
            home: String(cString: entry.pw_dir),
            userName: name
        )
    }

    private static func resolveGroup(_ group: String) throws(ResolveError) -> gid_t {
        if let gid = gid_t(group) { return gid }
        var entry = Glibc.group()
        var result: UnsafeMutablePointer<Glibc.group>?
        var buffer = [CChar](repeating: 0, count: 16 * 1024)
        getgrnam_r(group, &entry, &buffer, buffer.count, &result)
        guard result != nil else { throw ResolveError(key: "group", message: "unknown group \(group.quotedForMessage)") }
        return entry.gr_gid
    }

    struct ResolveError: Error, CustomStringConvertible {
        /// The config key at fault: "user" or "group".
        var key: String
        var message: String
        var description: String { message }
    }
}

extension ServiceConfiguration {
    /// What only this machine can tell: the user and group exist, the working directory is a
    /// directory. `check` and `run` ask before starting anything, so a typo fails at once with
    /// its line instead of at every start; `key` paths are relative to the service's table.
    public func hostProblems() -> [ConfigIssue] {
        var issues: [ConfigIssue] = []
        if let user {
            do {
                _ = try IdentityResolver.resolve(user: user, group: group)
            } catch {
                issues.append(ConfigIssue(key: [error.key], message: error.message))
            }
        }
        if let workingDirectory {
            var status = stat()
            if stat(workingDirectory, &status) != 0 {
                issues.append(ConfigIssue(key: ["working_directory"], message: "\(workingDirectory): \(String(cString: strerror(errno)))"))
            } else if status.st_mode & S_IFMT != S_IFDIR {
                issues.append(ConfigIssue(key: ["working_directory"], message: "\(workingDirectory): not a directory"))
            }
        }
        return issues
    }
}
