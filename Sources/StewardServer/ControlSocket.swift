import Glibc
import StewardConfig

/// The control socket's file: claimed before anything starts, restricted to Steward's user (and a
/// group), removed when Steward ends.
///
/// Which Steward owns the path is settled by a lock, not by trying to connect: `PATH.lock` is
/// flock'ed for the owner's whole life (the kernel drops the lock when it dies), so two Stewards
/// starting at once cannot both take the path, and a socket file without a locked lock file is
/// stale and may be replaced.
public struct ControlSocket: Sendable {
    public let path: String
    /// Members may connect too (0660); otherwise only Steward's user (0600).
    public let groupID: gid_t?
    /// The open, locked `PATH.lock`: held until the process ends.
    private let lock: Int32

    public struct Problem: Error, CustomStringConvertible {
        public var description: String
    }

    /// Makes the socket's directory (0755) if missing and clears the way: a socket file left by a
    /// Steward that died is removed; a path another Steward holds, or a file that is not a socket,
    /// is an error, since taking it over would cut that Steward off its operators.
    public static func claim(path: String, group: String?) throws(Problem) -> ControlSocket {
        guard path.hasPrefix("/") else { throw Problem(description: "\(path): the control socket needs an absolute path") }
        guard path.utf8.count < MemoryLayout.size(ofValue: sockaddr_un().sun_path) else {
            throw Problem(description: "\(path): a socket path has at most 107 bytes")
        }
        var groupID: gid_t?
        if let group {
            guard let entry = getgrnam(group) else { throw Problem(description: "[control] group \"\(group)\": no such group") }
            groupID = entry.pointee.gr_gid
        }
        try makeDirectories(for: path)
        let lock = open(path + ".lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard lock >= 0 else { throw Problem(description: "cannot open \(path).lock: \(String(cString: strerror(errno)))") }
        guard flock(lock, LOCK_EX | LOCK_NB) == 0 else {
            close(lock)
            throw Problem(description: "another Steward is listening on \(path); stop it, or give this one its own [control] socket")
        }
        var status = stat()
        if lstat(path, &status) == 0 {
            guard status.st_mode & S_IFMT == S_IFSOCK else {
                close(lock)
                throw Problem(description: "\(path) exists and is not a socket; remove it or set [control] socket")
            }
            unlink(path)
        }
        return ControlSocket(path: path, groupID: groupID, lock: lock)
    }

    /// Once bound (with the umask `bindingUmask`, so 0600 from the start): 0660 and the group when
    /// one is set. The file is checked to be this process's socket first, not a link put there.
    func restrictAccess() throws(Problem) {
        guard let groupID else { return }
        var status = stat()
        guard lstat(path, &status) == 0 else { return }  // gone already: Steward is ending
        guard status.st_mode & S_IFMT == S_IFSOCK, status.st_uid == geteuid() else {
            throw Problem(description: "\(path) is not the socket Steward bound")
        }
        guard lchown(path, uid_t.max, groupID) == 0 else { throw Problem(description: "chown \(path): \(String(cString: strerror(errno)))") }
        guard chmod(path, 0o660) == 0 else { throw Problem(description: "chmod \(path): \(String(cString: strerror(errno)))") }
    }

    /// What the socket is created with: rw for its owner only.
    public static let bindingUmask: mode_t = 0o177

    func remove() {
        unlink(path)
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
