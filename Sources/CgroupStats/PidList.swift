/// A cgroup.procs (or tasks) file: one pid per line. A line that is not a pid is an error, never
/// skipped: a pid list read wrong would let a stop miss a process.
public enum PidList {
    public static func parse(_ text: String, file: String) throws(CgroupParseError) -> [Int32] {
        var pids: [Int32] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
            guard let pid = Int32(line), pid > 0 else {
                throw CgroupParseError(file: file, line: index + 1, message: "expected a pid, got '\(line.prefix(64))'")
            }
            pids.append(pid)
        }
        return pids
    }
}
