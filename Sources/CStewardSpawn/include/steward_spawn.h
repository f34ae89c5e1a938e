#ifndef STEWARD_SPAWN_H
#define STEWARD_SPAWN_H

#include "steward_malloc.h"
#include <sys/types.h>

/// Where the child failed before execve; reported back over a CLOEXEC pipe.
enum steward_spawn_stage {
    STEWARD_STAGE_NONE = 0,
    STEWARD_STAGE_PIPE,        /* parent: creating the error pipe */
    STEWARD_STAGE_CLONE,       /* parent: clone3 / fork */
    STEWARD_STAGE_SIGNALS,     /* child: resetting signal dispositions */
    STEWARD_STAGE_CGROUP,      /* child: joining a cgroup.procs */
    STEWARD_STAGE_SETSID,
    STEWARD_STAGE_CHDIR,
    STEWARD_STAGE_SETGROUPS,
    STEWARD_STAGE_SETGID,
    STEWARD_STAGE_SETUID,
    STEWARD_STAGE_STDIO,
    STEWARD_STAGE_EXEC,
    STEWARD_STAGE_RLIMIT,      /* child: restoring the open-file soft limit */
};

struct steward_spawn_request {
    const char *path;               /* absolute or relative path; no PATH search here */
    char *const *argv;              /* NULL-terminated */
    char *const *envp;              /* NULL-terminated */
    const char *working_directory;  /* NULL: inherit */
    /* A cgroup2 directory fd: the child is created inside it with clone3(CLONE_INTO_CGROUP);
       -1 for none (pure v1 hosts). */
    int cgroup2_dir_fd;
    /* cgroup.procs fds (opened O_WRONLY|O_CLOEXEC by the caller) of v1 hierarchies that the child
       joins by writing "0" before execve. */
    const int *join_procs_fds;
    int join_procs_count;
    int stdin_fd, stdout_fd, stderr_fd; /* must be valid fds; the child dup2s them to 0, 1, 2 */
    int new_session;                /* setsid() so the service never shares our terminal/session */
    int change_identity;            /* non-zero: setgroups/setgid/setuid below */
    uid_t uid;
    gid_t gid;
    const gid_t *groups;
    int group_count;
    /* The RLIMIT_NOFILE soft limit the service gets (the one Steward was started with, before it
       raised its own to the hard limit); negative: keep Steward's. */
    long long open_files_soft;
};

struct steward_spawn_result {
    pid_t pid;              /* > 0 once the child exists */
    int pidfd;              /* -1 when the kernel gave none */
    int used_clone_into_cgroup;
    int failed_stage;       /* enum steward_spawn_stage, 0 on success */
    int error_number;       /* errno at the failed stage */
    int error_pipe_fd;      /* between begin and finish: where the child reports a failure */
};

/// Creates a process placed in its cgroups before it runs a single instruction of the new program:
/// the child sets itself up and execs on its own. Returns 0 once it exists (result->pid, ->pidfd,
/// ->error_pipe_fd set), -1 with result->failed_stage and result->error_number when it could not be
/// created. Split from `steward_spawn_finish` so that the caller can register the pid with its
/// reaper at once and wait for the exec without holding anything: spawns then overlap.
int steward_spawn_begin(const struct steward_spawn_request *request, struct steward_spawn_result *result);
/// Waits until the child begun by `steward_spawn_begin` has execve'd (0) or failed before it (-1,
/// with the failed stage and errno; its pidfd is closed). Closes the error pipe either way. The
/// caller reaps the pid (a failed child is reaped here when the reaper has not already).
int steward_spawn_finish(struct steward_spawn_result *result);

/// Creates a non-blocking CLOEXEC pipe and installs a SIGCHLD handler that writes a byte to it, so
/// a reaper waits on a file descriptor instead of a signal. Returns the read end, or -1 with errno.
int steward_sigchld_pipe(void);

/// PR_SET_CHILD_SUBREAPER: orphaned descendants are re-parented to this process. 0 or -1.
int steward_become_subreaper(void);

/// Sends `signal` through a pidfd (no pid-reuse race). Returns 0 or -1 with errno.
int steward_pidfd_send_signal(int pidfd, int signal);

/// Opens a datagram socket bound to the abstract unix address "@name" (no file to clean up) with
/// SO_PASSCRED, for a service's $NOTIFY_SOCKET. Returns the fd or -1 with errno.
int steward_notify_socket_open(const char *name);

/// Receives one datagram (non-blocking) into buffer (NUL-terminated, truncated to length - 1) and
/// the sender's pid from its credentials (0 when absent). Returns the byte count, or -1 with errno
/// (EAGAIN when nothing is waiting).
ssize_t steward_notify_receive(int fd, char *buffer, size_t length, pid_t *sender);

#endif
