/*===- nncc_profile.c - Kernel timers of libraries built with --profile -===*
 *
 * Linked only into libraries compiled with `nncc --profile`, whose
 * @forward and @train_step call __nncc_profile_enter() before each kernel
 * and __nncc_profile_exit(kind) after it (nn-instrument-kernels). Kernels
 * do not nest and run from the thread that called the library (their
 * loops may run on the pool, which that thread waits for), so one start
 * time suffices. The totals are per library, not per model: profiling is
 * for one model stepping at a time. Only libc is used.
 *
 *===------------------------------------------------------------------===*/

#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <string.h>
#include <time.h>

enum {
#define NNCC_PROFILE_KIND(NAME, STRING) PROFILE_##NAME,
#include "nncc/Runtime/ProfileKinds.def"
  PROFILE_KINDS
};

static const char *const kind_names[PROFILE_KINDS] = {
#define NNCC_PROFILE_KIND(NAME, STRING) STRING,
#include "nncc/Runtime/ProfileKinds.def"
};

/* Return codes: include/nncc/Runtime/ErrorCodes.def. */
enum {
#define NNCC_ERROR(NAME, VALUE, MESSAGE) NNCC_##NAME = VALUE,
#include "nncc/Runtime/ErrorCodes.def"
};

static struct timespec started;
static double seconds[PROFILE_KINDS];
static int64_t calls[PROFILE_KINDS];

void __nncc_profile_enter(void) { clock_gettime(CLOCK_MONOTONIC, &started); }

void __nncc_profile_exit(int32_t kind) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  if (kind < 0 || kind >= PROFILE_KINDS)
    kind = PROFILE_OTHER;
  seconds[kind] += (double)(now.tv_sec - started.tv_sec) +
                   1e-9 * (double)(now.tv_nsec - started.tv_nsec);
  ++calls[kind];
}

int32_t nncc_profile_num_kinds(void) { return PROFILE_KINDS; }

const char *nncc_profile_kind(int32_t kind) {
  return kind >= 0 && kind < PROFILE_KINDS ? kind_names[kind] : NULL;
}

int nncc_profile_read(int32_t kind, double *total_seconds, int64_t *count) {
  if (!total_seconds || !count)
    return NNCC_ERR_NULL;
  if (kind < 0 || kind >= PROFILE_KINDS)
    return NNCC_ERR_INDEX;
  *total_seconds = seconds[kind];
  *count = calls[kind];
  return NNCC_OK;
}

void nncc_profile_reset(void) {
  memset(seconds, 0, sizeof seconds);
  memset(calls, 0, sizeof calls);
}
