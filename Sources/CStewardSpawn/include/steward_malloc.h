#ifndef STEWARD_MALLOC_H
#define STEWARD_MALLOC_H

#include <malloc.h>

/* glibc's malloc tuning, which Swift's Glibc module does not import (malloc.h): at most `arenas`
   arenas, and blocks of `mmap_threshold` bytes or more mapped (and unmapped when freed) with the
   dynamic threshold off. */
static inline void steward_limit_malloc_retention(int arenas, int mmap_threshold) {
    (void)mallopt(M_ARENA_MAX, arenas);
    (void)mallopt(M_MMAP_THRESHOLD, mmap_threshold);
}

#endif
