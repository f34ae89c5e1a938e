import Glibc
import StewardConfig

/// The control socket's file: claimed before anything starts, restricted to Steward's user (and a
/// group), removed when Steward ends.
public struct ControlSocket: Sendable {
    public let path: String
    /// Members may connect too (0660); otherwise only Steward's user (0600).
    public let groupID: gid_t?

    public struct Problem: Error, CustomStringConvertible {
        public var description: String
    }

    /// Makes the socket's directory (0755) if missing and clears the way: a socket nobody answers
    /// on (left by a Steward that died) is removed; one another Steward answers on, or a file that
    /// is not a socket, is an error, since taking it over would cut that Steward off its operators.
    public static func claim(path: String, group: String?) throws(Problem) -> ControlSocket {
        guard path.utf8.count < MemoryLayout.size(ofValue: sockaddr_un().sun_path) else {
            throw Problem(description: "\(path): a socket path has at most 107 bytes")
        }
        var groupID: gid_t?
        if let group {
            guard let entry = getgrnam(group) else { throw Problem(description: "[control] group \"\(group)\": no such group") }
            groupID = entry.pointee.gr_gid
        }
        try makeDirectories(for: path)
        var status = stat()
        if lstat(path, &status) == 0 {
            guard status.st_mode & S_IFMT == S_IFSOCK else {
                throw Problem(description: "\(path) exists and is not a socket; remove it or set [control] socket")
            }
            if answers(path) {
                throw Problem(description: "another Steward is listening on \(path); stop it, or give this one its own [control] socket")
            }
            unlink(path)
        }
        return ControlSocket(path: path, groupID: groupID)
    }

    /// Once bound: 0600, or 0660 with the group. Until this runs the socket has the mode the umask
    /// gave it, so Steward binds it before any service runs. A socket already gone (Steward is
    /// ending: another listener failed) needs nothing.
    func restrictAccess() throws(Problem) {
        guard access(path, F_OK) == 0 else { return }
        if let groupID {
            guard chown(path, uid_t.max, groupID) == 0 else { throw Problem(description: "chown \(path): \(String(cString: strerror(errno)))") }
        }
        guard chmod(path, groupID == nil ? 0o600 : 0o660) == 0 else {
            throw Problem(description: "chmod \(path): \(String(cString: strerror(errno)))")
        }
    }

    func remove() {
        unlink(path)
    }

    /// Whether something accepts connections on the socket at `path`.
    private static func answers(_ path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { bytes in
            bytes.copyBytes(from: path.utf8.prefix(bytes.count - 1))
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        return connected == 0
    }

    private static func makeDirectories(for path: String) throws(Problem) {
        var directory = ""
        for component in path.split(separator: "/").dropLast() {
            directory += "/" + component
            if mkdir(directory, 0o755) != 0 && errno != EEXIST {
                throw Problem(description: "cannot make \(directory) for the control socket: \(String(cString: strerror(errno)))")
            }
        }
    }
}
