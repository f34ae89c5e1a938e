import Glibc

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
        guard result != nil else { throw ResolveError(message: "unknown user \"\(user)\"") }
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
        guard result != nil else { throw ResolveError(message: "unknown group \"\(group)\"") }
        return entry.gr_gid
    }

    struct ResolveError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }
}
