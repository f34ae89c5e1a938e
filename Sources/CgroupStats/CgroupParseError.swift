/// A kernel cgroup file whose text is not what the kernel writes, or lacks a value the caller needs.
public struct CgroupParseError: Error, Equatable, CustomStringConvertible {
    /// The file the text came from, as the caller named it (e.g. "memory.stat" or a full path).
    public var file: String
    /// 1-based line number; nil when the problem is the file as a whole (empty, a key missing).
    public var line: Int?
    public var message: String

    public init(file: String, line: Int?, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    /// "file:line: message", the shape compilers use, so editors and logs can point at it.
    public var description: String {
        if let line { "\(file):\(line): \(message)" } else { "\(file): \(message)" }
    }
}

/// Which cgroup hierarchy a file came from; the same facts live under different keys in each.
public enum CgroupVersion: Sendable {
    case v1, v2
}
