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

/* Returns the heap's free pages to the kernel (malloc_trim(0) also releases free pages in the middle of
   every arena, which freeing alone never does). */
static inline void steward_release_free_memory(void) {
    (void)malloc_trim(0);
}

#endif
