import CgroupStats
import SystemPackage

import Glibc

/// A failed operation on a cgroup or proc file, naming the path.
public struct CgroupFSError: Error, Equatable, CustomStringConvertible {
    public var path: String
    public var operation: String
    public var errno: Errno
    /// What the operator can do about it, when Steward knows.
    public var hint: String?
    /// Set when the file was read but its text is not what the kernel writes (errno is then EINVAL).
    public var malformed: CgroupParseError?

    public init(path: String, operation: String, errno: Errno, hint: String? = nil) {
        self.path = path
        self.operation = operation
        self.errno = errno
        self.hint = hint
    }

    /// A file whose text did not parse.
    public init(malformed: CgroupParseError) {
        self.init(path: malformed.file, operation: "parse", errno: .invalidArgument)
        self.malformed = malformed
    }

    public var description: String {
        if let malformed { return "\(malformed)" }
        return "\(operation) \(path): \(errno)" + (hint.map { " (\($0))" } ?? "")
    }
}

/// Whole-file reads and writes of small kernel files. A missing file is an error, never "0".
public enum CgroupFile {
    public static func readText(_ path: String) throws(CgroupFSError) -> String {
        let fd = try open(path, .readOnly)
        defer { try? fd.close() }
        return try readText(fd, path: path)
    }

    /// Reads from offset 0 of a kept descriptor: kernel files regenerate their content on each
    /// read at offset 0, at half the cost of open/read/close. Reads until read() returns 0.
    public static func readText(_ fd: FileDescriptor, path: String) throws(CgroupFSError) -> String {
        // Cgroup files are small: a stack buffer holds the whole file, so a scrape of hundreds of
        // them allocates only their Strings. A larger file spills into an array.
        let text: Result<String, CgroupFSError> = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 4096) { buffer in
            var spilled: [UInt8] = []
            var filled = 0
            var offset: Int64 = 0
            while true {
                if filled == buffer.count {
                    spilled.append(contentsOf: buffer)
                    filled = 0
                }
                let count: Int
                do {
                    count = try fd.read(fromAbsoluteOffset: offset, into: UnsafeMutableRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(buffer)[filled...]), retryOnInterrupt: true)
                } catch {
                    return .failure(CgroupFSError(path: path, operation: "read", errno: error as? Errno ?? .ioError))
                }
                if count == 0 { break }
                filled += count
                offset += Int64(count)
            }
            let tail = UnsafeBufferPointer(rebasing: buffer[..<filled])
            guard !spilled.isEmpty else { return .success(String(decoding: tail, as: UTF8.self)) }
            spilled.append(contentsOf: tail)
            return .success(String(decoding: spilled, as: UTF8.self))
        }
        return try text.get()
    }

    public static func write(_ text: String, to path: String) throws(CgroupFSError) {
        let fd = try open(path, .writeOnly)
        defer { try? fd.close() }
        do {
            _ = try fd.writeAll(text.utf8)
        } catch {
            throw CgroupFSError(path: path, operation: "write \"\(text)\" to", errno: error as? Errno ?? .ioError)
        }
    }

    public static func open(_ path: String, _ mode: FileDescriptor.AccessMode) throws(CgroupFSError) -> FileDescriptor {
        do {
            return try FileDescriptor.open(FilePath(path), mode, options: [.closeOnExec], retryOnInterrupt: true)
        } catch {
            throw CgroupFSError(path: path, operation: "open", errno: error as? Errno ?? .ioError)
        }
    }

    /// The pids listed in a cgroup.procs file.
    public static func readPids(_ path: String) throws(CgroupFSError) -> [pid_t] {
        try parse(readText(path)) { text throws(CgroupParseError) in try PidList.parse(text, file: path) }
    }

    /// `parser`'s value, with a parse error reported as a `CgroupFSError` (`malformed`).
    static func parse<T>(_ text: String, _ parser: (String) throws(CgroupParseError) -> T) throws(CgroupFSError) -> T {
        do {
            return try parser(text)
        } catch {
            throw CgroupFSError(malformed: error)
        }
    }

    /// The pids of every cgroup below `directory` (not its own), depth first. Child cgroups are rare
    /// (a service that makes its own), so they are listed and read afresh each time. A child that
    /// vanishes meanwhile has no processes to report.
    static func descendantPids(of directory: String) throws(CgroupFSError) -> [pid_t] {
        var pids: [pid_t] = []
        for child in subdirectories(of: directory) {
            pids += try descendantPids(of: child)
            do {
                pids += try readPids(child + "/cgroup.procs")
            } catch where error.errno == .noSuchFileOrDirectory || error.errno == .operationNotSupportedByDevice {
                continue
            }
        }
        return pids
    }

    /// The directories directly below `directory`: child cgroups, in a cgroup directory.
    static func subdirectories(of directory: String) -> [String] {
        guard let stream = opendir(directory) else { return [] }
        defer { closedir(stream) }
        var children: [String] = []
        while let entry = readdir(stream) {
            guard entry.pointee.d_type == UInt8(DT_DIR) else { continue }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { children.append(directory + "/" + name) }
        }
        return children
    }

    /// Removes `directory` and every cgroup below it, deepest first; each must be empty.
    static func removeCgroupDirectory(_ directory: String) throws(CgroupFSError) {
        for child in subdirectories(of: directory) { try removeCgroupDirectory(child) }
        try removeDirectory(directory)
    }

    public static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    static func makeDirectory(_ path: String) throws(CgroupFSError) -> Bool {
        if mkdir(path, 0o755) == 0 { return true }
        let error = Errno(rawValue: Glibc.errno)
        if error == .fileExists { return false }
        throw CgroupFSError(path: path, operation: "mkdir", errno: error)
    }

    static func removeDirectory(_ path: String) throws(CgroupFSError) {
        if rmdir(path) == 0 { return }
        let error = Errno(rawValue: Glibc.errno)
        if error == .noSuchFileOrDirectory { return }
        throw CgroupFSError(path: path, operation: "rmdir", errno: error)
    }
}
