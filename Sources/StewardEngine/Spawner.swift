import CStewardSpawn
import CgroupFS
import Glibc
import SystemPackage

/// Everything needed to start one main process.
struct SpawnSpec {
    var executable: String
    var arguments: [String]
    var environment: [String: String]
    var workingDirectory: String?
    var identity: Identity?
    var stdin: FileDescriptor
    var stdout: FileDescriptor
    var stderr: FileDescriptor

    struct Identity {
        var uid: uid_t
        var gid: gid_t
        var groups: [gid_t]
    }
}

/// Where the child (or the parent, before it) failed, in words that name what was being done.
struct SpawnError: Error, CustomStringConvertible {
    var stage: String
    var errno: Errno

    var description: String { "\(stage): \(errno)" }

    init(stage: Int32, errno: Int32, spec: SpawnSpec) {
        self.errno = Errno(rawValue: errno)
        self.stage = switch UInt32(stage) {
        case STEWARD_STAGE_PIPE.rawValue: "creating the error pipe"
        case STEWARD_STAGE_CLONE.rawValue: "clone3/fork"
        case STEWARD_STAGE_SIGNALS.rawValue: "resetting signals"
        case STEWARD_STAGE_CGROUP.rawValue: "joining the cgroup"
        case STEWARD_STAGE_SETSID.rawValue: "setsid"
        case STEWARD_STAGE_CHDIR.rawValue: "changing to the working directory \(spec.workingDirectory ?? "")"
        case STEWARD_STAGE_SETGROUPS.rawValue: "setgroups \(spec.identity?.groups.map(String.init).joined(separator: ",") ?? "")"
        case STEWARD_STAGE_SETGID.rawValue: "setgid \(spec.identity?.gid ?? 0)"
        case STEWARD_STAGE_SETUID.rawValue: "setuid \(spec.identity?.uid ?? 0)"
        case STEWARD_STAGE_STDIO.rawValue: "setting up stdin/stdout/stderr"
        case STEWARD_STAGE_EXEC.rawValue: "execve \(spec.executable)"
        case STEWARD_STAGE_RLIMIT.rawValue: "setting the open-file limit"
        default: "spawn stage \(stage)"  // a stage the C side added and this list does not know yet
        }
    }
}

struct SpawnedProcess: Sendable {
    var pid: pid_t
    var pidfd: FileDescriptor?
    var placedByClone: Bool
}

enum Spawner {
    /// Starts `spec` inside `cgroup`, registering `onExit` with the reaper before the child can be reaped.
    static func spawn(_ spec: SpawnSpec, in cgroup: ServiceCgroup, onExit: @escaping Reaper.ExitHandler) async throws -> SpawnedProcess {
        let targets = try cgroup.openSpawnTargets()
        defer { targets.close() }
        let argv = spec.arguments.map { strdup($0) } + [nil]
        let envp = spec.environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        let procs = targets.v1Procs.map(\.rawValue)
        let openFilesSoft = OpenFileLimit.servicesSoftLimit.map { Int64(clamping: $0) } ?? -1
        let groups = spec.identity?.groups ?? []
        // A child whose exec fails exits 127; if the reaper gets to it first, its handler reports
        // that exit, which the service's machine tells from a later run's by its pid.
        return try await Reaper.shared.spawn(create: { () throws(SpawnError) -> (pid_t, steward_spawn_result) in
            var result = steward_spawn_result()
            let status: Int32 = spec.executable.withCString { path in
                (spec.workingDirectory ?? "").withCString { cwd in
                    procs.withUnsafeBufferPointer { procsBuffer in
                        groups.withUnsafeBufferPointer { groupsBuffer in
                            argv.withUnsafeBufferPointer { argvBuffer in
                                envp.withUnsafeBufferPointer { envpBuffer in
                                    var request = steward_spawn_request(
                                        path: path,
                                        argv: argvBuffer.baseAddress,
                                        envp: envpBuffer.baseAddress,
                                        working_directory: spec.workingDirectory == nil ? nil : cwd,
                                        cgroup2_dir_fd: targets.cgroup2Directory?.rawValue ?? -1,
                                        join_procs_fds: procsBuffer.baseAddress,
                                        join_procs_count: Int32(procsBuffer.count),
                                        stdin_fd: spec.stdin.rawValue,
                                        stdout_fd: spec.stdout.rawValue,
                                        stderr_fd: spec.stderr.rawValue,
                                        new_session: 1,
                                        change_identity: spec.identity == nil ? 0 : 1,
                                        uid: spec.identity?.uid ?? 0,
                                        gid: spec.identity?.gid ?? 0,
                                        groups: groupsBuffer.baseAddress,
                                        group_count: Int32(groupsBuffer.count),
                                        open_files_soft: openFilesSoft
                                    )
                                    return steward_spawn_begin(&request, &result)
                                }
                            }
                        }
                    }
                }
            }
            guard status == 0 else { throw SpawnError(stage: result.failed_stage, errno: result.error_number, spec: spec) }
            return (result.pid, result)
        }, finish: { (begun: steward_spawn_result) throws(SpawnError) -> SpawnedProcess in
            // Blocks this thread until the child has exec'd (or failed before). Awaiting the error
            // pipe on a dispatch source instead, cancelled from its own handler, crashed libdispatch's
            // event loop under load (use after free: 15 of 240 parallel `exec` runs).
            var result = begun
            guard steward_spawn_finish(&result) == 0 else { throw SpawnError(stage: result.failed_stage, errno: result.error_number, spec: spec) }
            return SpawnedProcess(
                pid: result.pid,
                pidfd: result.pidfd >= 0 ? FileDescriptor(rawValue: result.pidfd) : nil,
                placedByClone: result.used_clone_into_cgroup != 0
            )
        }, onExit: onExit)
    }

    /// Resolves a command name the way execvp would, against the service's PATH.
    static func resolveExecutable(_ name: String, path: String?) -> String? {
        if name.contains("/") { return name }
        for directory in (path ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin").split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }
}
