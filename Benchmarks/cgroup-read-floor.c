/*
 * The floor for a metrics scrape: the time to read a list of cgroup files with nothing but system
 * calls, once per round. Paths come on stdin, one per line.
 *
 *   cgroup-read-floor open ROUNDS   open/read/close every file each round (what a naive reader does)
 *   cgroup-read-floor pread ROUNDS  open once, then pread from offset 0 each round (what Steward does)
 *   cgroup-read-floor pread ROUNDS IDLE_MS
 *                                   the same with the CPU left idle for IDLE_MS between rounds, as a
 *                                   scrape comes after idle: on this VM the kernel's reads then cost
 *                                   more than in a tight loop, whoever makes them
 *
 * Prints the median and 99th percentile of a round in microseconds. Reads until read() returns 0,
 * as Steward does, so both make the same calls per file apart from open/close.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { MAX_FILES = 4096 };

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void drain(int fd, const char *path) {
    static char buffer[65536];
    off_t offset = 0;
    ssize_t n;
    while ((n = pread(fd, buffer, sizeof buffer, offset)) > 0) offset += n;
    if (n < 0) { perror(path); exit(1); }
}

int main(int argc, char **argv) {
    if ((argc != 3 && argc != 4) || (strcmp(argv[1], "open") && strcmp(argv[1], "pread"))) {
        fprintf(stderr, "usage: %s open|pread ROUNDS [IDLE_MS] < paths\n", argv[0]);
        return 2;
    }
    int keep = strcmp(argv[1], "pread") == 0, rounds = atoi(argv[2]);
    int idle_ms = argc == 4 ? atoi(argv[3]) : 0;
    static char *paths[MAX_FILES];
    static int fds[MAX_FILES];
    int count = 0;
    char line[4096];
    while (count < MAX_FILES && fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = 0;
        if (!*line) continue;
        paths[count] = strdup(line);
        if (keep && (fds[count] = open(line, O_RDONLY | O_CLOEXEC)) < 0) { perror(line); return 1; }
        count++;
    }
    double *times = malloc(sizeof(double) * rounds);
    for (int round = 0; round < rounds; round++) {
        double start = now_us();
        for (int i = 0; i < count; i++) {
            int fd = keep ? fds[i] : open(paths[i], O_RDONLY | O_CLOEXEC);
            if (fd < 0) { perror(paths[i]); return 1; }
            drain(fd, paths[i]);
            if (!keep) close(fd);
        }
        times[round] = now_us() - start;
        if (idle_ms > 0) usleep(idle_ms * 1000);
    }
    qsort(times, rounds, sizeof(double), compare);
    printf("%d files: median %.0f us, p99 %.0f us per round\n", count, times[rounds / 2], times[rounds * 99 / 100]);
    return 0;
}
