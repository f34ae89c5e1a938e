/// One line of /proc/self/mountinfo, reduced to what cgroup discovery needs.
public struct MountEntry: Sendable, Equatable {
    /// The directory inside the filesystem that is mounted (for cgroups: the cgroup path the mount
    /// shows, "/" unless a container bind-mounted a subtree).
    public var root: String
    public var mountPoint: String
    public var fsType: String
    /// Per-superblock options; for cgroup v1 they name the controllers ("rw,memory", "rw,cpu,cpuacct").
    public var superOptions: [String]

    /// Parses mountinfo text (see proc(5)): fields up to " - " are per mount, then fstype, source,
    /// super options. Paths are octal-escaped (\040 for a space).
    public static func parse(_ text: String, file: String = "/proc/self/mountinfo") throws(CgroupParseError) -> [MountEntry] {
        var entries: [MountEntry] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let separator = fields.firstIndex(of: "-"), separator >= 6, fields.count >= separator + 4 else {
                throw CgroupParseError(file: file, line: index + 1, message: "malformed mountinfo line")
            }
            entries.append(MountEntry(
                root: unescape(fields[3]),
                mountPoint: unescape(fields[4]),
                fsType: String(fields[separator + 1]),
                superOptions: fields[separator + 3].split(separator: ",").map(String.init)
            ))
        }
        return entries
    }

    private static func unescape(_ field: Substring) -> String {
        guard field.contains("\\") else { return String(field) }
        var bytes: [UInt8] = []
        var utf8 = Array(field.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "\\"), utf8.count >= 3,
               let value = UInt8(String(decoding: utf8.prefix(3), as: UTF8.self), radix: 8) {
                bytes.append(value)
                utf8 = utf8.dropFirst(3)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
