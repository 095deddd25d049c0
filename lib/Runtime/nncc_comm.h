/*===- nncc_comm.h - The collective engine of data-parallel training ---===*
 *
 * Internal to lib/Runtime. nncc_comm.c packs gradients into buckets and
 * drives an engine: the user's functions (nncc_set_allreduce and
 * nncc_set_broadcast), or MPI's in a library compiled with
 * --distributed=mpi (nncc_mpi.c).
 *
 *===------------------------------------------------------------------===*/

#ifndef NNCC_COMM_H
#define NNCC_COMM_H

#include "nncc_runtime.h"

/* What the library needs of a communication library. Every function
   returns 0 on success. `start` and `finish` may be NULL: a bucket is then
   summed by `allreduce` when it is complete. */
typedef struct nncc_engine {
  void *ctx;
  /* Sums `buf` across the processes, in place. */
  int (*allreduce)(void *ctx, float *buf, size_t n);
  /* Copies rank 0's `buf` to every process, bit for bit. */
  int (*broadcast)(void *ctx, float *buf, size_t n);
  /* Starts the sum of bucket `bucket`, in place; `finish` waits for it. */
  int (*start)(void *ctx, int32_t bucket, float *buf, size_t n);
  int (*finish)(void *ctx, int32_t bucket);
  /* Lets started sums advance (called as gradients come in); may be NULL. */
  void (*progress)(void *ctx);
  /* This process's rank and the number of processes. */
  int (*group)(void *ctx, int32_t *rank, int32_t *world);
  void (*destroy)(void *ctx);
} nncc_engine;

/* The engine a library starts with: none (0), or MPI's in a library
   compiled with --distributed=mpi, whose nncc_mpi.c overrides this weak
   definition. Returns 1 when it filled `engine`, 0 for none, -1 when out
   of memory. */
int __nncc_default_engine(nncc_engine *engine);

struct nncc_comm *__nncc_comm_create(void);
void __nncc_comm_destroy(struct nncc_comm *c);
/* Replaces the engine (destroying the old one); NULL functions: none. */
void __nncc_comm_set_engine(struct nncc_comm *c, const nncc_engine *engine);
/* Whether the model trains data-parallel: it has an engine. */
int __nncc_comm_active(const struct nncc_comm *c);
/* This process's rank and the number of processes (0 and 1 without an
   engine); NNCC_ERR_COMM when the engine cannot tell. */
int __nncc_comm_group(struct nncc_comm *c, int32_t *rank, int32_t *world);

/* Every process calls this with its own result of checking its arguments;
   returns `rc` where it failed, NNCC_ERR_PEER where another process failed,
   NNCC_ERR_COMM when the engine failed, NNCC_OK when all agree. */
int __nncc_comm_agree(struct nncc_comm *c, int rc);
/* Rank 0's `n` bytes (a multiple of 4) of floats to every process. */
int __nncc_comm_broadcast(struct nncc_comm *c, void *bytes, size_t n);
/* Rank 0's `n` (at most 16) 64-bit words to every process, exactly. */
int __nncc_comm_broadcast_words(struct nncc_comm *c, uint64_t *words,
                                size_t n);
/* Whether training needs nncc_set_rank first: a program's engine that was
   not told the rank. */
int __nncc_comm_needs_rank(const struct nncc_comm *c);

/* Before a step: this process's share of the loss's denominator (the
   positions its loss averages over) is summed across the processes, and
   `*grad_scale` becomes local / global, the seed of the backward pass, so
   that the gradients of the processes sum to the global batch's mean
   gradient. The step's kernel must run on this thread, between begin and
   end. */
int __nncc_comm_begin_step(struct nncc_comm *c, double denominator,
                           float *grad_scale);
/* After the kernel, on every process: `*loss`, this process's mean loss,
   becomes the global batch's, and `*not_finite` whether any process's
   update was not finite. Returns NNCC_ERR_COMM on every process when a
   collective of the step failed on any. */
int __nncc_comm_end_step(struct nncc_comm *c, float *loss, int *not_finite);

/* The C interface's, for the training functions. */
int nncc_broadcast_parameters(nncc_model *m);

/* Whether the parameters were broadcast since the engine was set. */
int __nncc_comm_synced(const struct nncc_comm *c);

#endif /* NNCC_COMM_H */
