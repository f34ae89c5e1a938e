#define _GNU_SOURCE
#include "steward_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

struct child_failure {
    int stage;
    int error_number;
};

/* Everything below runs in the child between clone and execve: only raw syscalls and
   async-signal-safe libc calls. glibc's setuid/setgroups wrappers are avoided on purpose: they
   broadcast to every thread glibc believes exists, and after a raw clone3 those threads are gone. */
static void child_fail(int pipe_fd, int stage) {
    struct child_failure failure = {stage, errno};
    ssize_t ignored = write(pipe_fd, &failure, sizeof failure);
    (void)ignored;
    _exit(127);
}

static int move_above_stdio(int fd) {
    return fd > 2 ? fd : fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

static void child_main(const struct steward_spawn_request *rq, int pipe_fd, const int *extra_procs_fds,
                       int extra_count) {
    /* Dispositions survive execve only when ignored; reset all so the service starts clean. */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP) continue;
        sigaction(sig, &dfl, NULL); /* EINVAL for glibc-reserved signals is fine */
    }

    for (int i = 0; i < extra_count + rq->join_procs_count; i++) {
        int fd = i < extra_count ? extra_procs_fds[i] : rq->join_procs_fds[i - extra_count];
        /* "0" means the writing process itself, so no pid formatting is needed. */
        if (write(fd, "0", 1) != 1) child_fail(pipe_fd, STEWARD_STAGE_CGROUP);
    }
    if (rq->new_session && setsid() < 0) child_fail(pipe_fd, STEWARD_STAGE_SETSID);
    if (rq->open_files_soft >= 0) {
        struct rlimit limit;
        if (syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &limit) < 0) child_fail(pipe_fd, STEWARD_STAGE_RLIMIT);
        limit.rlim_cur = (rlim_t)rq->open_files_soft < limit.rlim_max ? (rlim_t)rq->open_files_soft : limit.rlim_max;
        if (syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &limit, NULL) < 0) child_fail(pipe_fd, STEWARD_STAGE_RLIMIT);
    }
    if (rq->working_directory && chdir(rq->working_directory) < 0) child_fail(pipe_fd, STEWARD_STAGE_CHDIR);
    if (rq->change_identity) {
        if (syscall(SYS_setgroups, (size_t)rq->group_count, rq->groups) < 0)
            child_fail(pipe_fd, STEWARD_STAGE_SETGROUPS);
        if (syscall(SYS_setresgid, rq->gid, rq->gid, rq->gid) < 0) child_fail(pipe_fd, STEWARD_STAGE_SETGID);
        if (syscall(SYS_setresuid, rq->uid, rq->uid, rq->uid) < 0) child_fail(pipe_fd, STEWARD_STAGE_SETUID);
    }

    int stdio[3] = {rq->stdin_fd, rq->stdout_fd, rq->stderr_fd};
    for (int i = 0; i < 3; i++) {
        stdio[i] = move_above_stdio(stdio[i]);
        if (stdio[i] < 0) child_fail(pipe_fd, STEWARD_STAGE_STDIO);
    }
    for (int i = 0; i < 3; i++) {
        if (dup2(stdio[i], i) < 0) child_fail(pipe_fd, STEWARD_STAGE_STDIO);
    }
    /* Nothing of the supervisor's leaks into the service: mark every other fd close-on-exec
       (the error pipe must stay open until execve succeeds). */
    if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
        long max_fd = sysconf(_SC_OPEN_MAX);
        for (int fd = 3; fd < max_fd && fd < 65536; fd++) {
            if (fd != pipe_fd) fcntl(fd, F_SETFD, FD_CLOEXEC);
        }
    }
    sigset_t empty;
    sigemptyset(&empty);
    sigprocmask(SIG_SETMASK, &empty, NULL);
    execve(rq->path, rq->argv, rq->envp);
    child_fail(pipe_fd, STEWARD_STAGE_EXEC);
}

static pid_t clone_into(int cgroup_fd, int *pidfd) {
    struct clone_args args;
    memset(&args, 0, sizeof args);
    args.flags = CLONE_PIDFD | (cgroup_fd >= 0 ? CLONE_INTO_CGROUP : 0);
    args.pidfd = (uint64_t)(uintptr_t)pidfd;
    args.exit_signal = SIGCHLD;
    args.cgroup = cgroup_fd >= 0 ? (uint64_t)cgroup_fd : 0;
    return (pid_t)syscall(SYS_clone3, &args, sizeof args);
}

int steward_spawn_begin(const struct steward_spawn_request *rq, struct steward_spawn_result *result) {
    memset(result, 0, sizeof *result);
    result->pidfd = -1;
    result->error_pipe_fd = -1;

    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) < 0) {
        result->failed_stage = STEWARD_STAGE_PIPE;
        result->error_number = errno;
        return -1;
    }

    /* No signal handler of ours may run in the child before its dispositions are reset. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);

    int pidfd = -1;
    int fallback_procs_fd = -1;
    pid_t pid = clone_into(rq->cgroup2_dir_fd, &pidfd);
    if (pid < 0 && (errno == ENOSYS || errno == E2BIG || errno == EINVAL)) {
        /* Kernels before 5.7 lack CLONE_INTO_CGROUP (before 5.3, clone3): fork, and let the child
           join the v2 cgroup by writing cgroup.procs like the v1 hierarchies. */
        if (rq->cgroup2_dir_fd >= 0) {
            fallback_procs_fd = openat(rq->cgroup2_dir_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
        }
        if (rq->cgroup2_dir_fd < 0 || fallback_procs_fd >= 0) {
            pidfd = -1;
            pid = fork();
        }
    } else if (pid >= 0) {
        result->used_clone_into_cgroup = rq->cgroup2_dir_fd >= 0;
    }
    if (pid == 0) {
        close(pipe_fds[0]);
        child_main(rq, pipe_fds[1], &fallback_procs_fd, fallback_procs_fd >= 0 ? 1 : 0);
    }
    int clone_errno = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (fallback_procs_fd >= 0) close(fallback_procs_fd);
    close(pipe_fds[1]);

    if (pid < 0) {
        close(pipe_fds[0]);
        result->failed_stage = STEWARD_STAGE_CLONE;
        result->error_number = clone_errno;
        return -1;
    }

    if (pidfd < 0) pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    result->pid = pid;
    result->pidfd = pidfd;
    result->error_pipe_fd = pipe_fds[0];
    return 0;
}

int steward_spawn_finish(struct steward_spawn_result *result) {
    struct child_failure failure;
    ssize_t n;
    do {
        n = read(result->error_pipe_fd, &failure, sizeof failure);
    } while (n < 0 && errno == EINTR);
    close(result->error_pipe_fd);
    result->error_pipe_fd = -1;
    if (n != (ssize_t)sizeof failure) return 0;
    /* The reaper may win this race; ECHILD then is expected and harmless. */
    int status;
    while (waitpid(result->pid, &status, 0) < 0 && errno == EINTR) {}
    if (result->pidfd >= 0) close(result->pidfd);
    result->pidfd = -1;
    result->failed_stage = failure.stage;
    result->error_number = failure.error_number;
    return -1;
}

static int sigchld_fd = -1;

static void on_sigchld(int sig) {
    (void)sig;
    int saved = errno;
    ssize_t ignored = write(sigchld_fd, "c", 1); /* a full pipe already means "wake up" */
    (void)ignored;
    errno = saved;
}

int steward_sigchld_pipe(void) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0) return -1;
    sigchld_fd = fds[1];
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_sigchld;
    action.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    sigemptyset(&action.sa_mask);
    if (sigaction(SIGCHLD, &action, NULL) < 0) return -1;
    return fds[0];
}

int steward_become_subreaper(void) {
    return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
}

int steward_pidfd_send_signal(int pidfd, int signal) {
    return (int)syscall(SYS_pidfd_send_signal, pidfd, signal, NULL, 0);
}

int steward_notify_socket_open(const char *name) {
    struct sockaddr_un address;
    size_t name_length = strlen(name);
    if (name_length + 1 > sizeof address.sun_path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return -1;
    memset(&address, 0, sizeof address);
    address.sun_family = AF_UNIX;
    memcpy(address.sun_path + 1, name, name_length); /* sun_path[0] == 0: abstract namespace */
    int on = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof on) < 0 ||
        bind(fd, (struct sockaddr *)&address, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + name_length)) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

ssize_t steward_notify_receive(int fd, char *buffer, size_t length, pid_t *sender) {
    struct iovec iov = {buffer, length - 1};
    union {
        struct cmsghdr header;
        char space[CMSG_SPACE(sizeof(struct ucred))];
    } control;
    struct msghdr message;
    memset(&message, 0, sizeof message);
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    message.msg_control = &control;
    message.msg_controllen = sizeof control;
    ssize_t n = recvmsg(fd, &message, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0) return -1;
    buffer[n] = 0;
    *sender = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&message); c; c = CMSG_NXTHDR(&message, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
            struct ucred credentials;
            memcpy(&credentials, CMSG_DATA(c), sizeof credentials);
            *sender = credentials.pid;
        }
    }
    return n;
}
