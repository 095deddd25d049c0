/*===- nncc_runtime.h - What the runtime's files share ----------------===*
 *
 * Internal to lib/Runtime: the ABI.md types, the `__nncc_*` metadata that
 * the compiler emits, the model and small helpers. Every definition here
 * that is not an `nncc_*` function is internal to a generated library.
 *
 *===------------------------------------------------------------------===*/

#ifndef NNCC_RUNTIME_H
#define NNCC_RUNTIME_H

#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ABI.md types. */
typedef struct {
  const char *name;
  int32_t dtype;
  int32_t rank;
  const int64_t *shape;
  int64_t numel;
} nncc_tensor_info;

typedef int (*nncc_progress_fn)(void *user, int64_t epoch, int64_t step,
                                float loss);
typedef struct {
  int32_t shuffle;
  uint64_t seed;
  int64_t report_every;
} nncc_train_options;

enum { NNCC_FLOAT = 1, NNCC_INT32 = 6, NNCC_INT64 = 7 };

/* Return codes: include/nncc/Runtime/ErrorCodes.def. */
enum {
#define NNCC_ERROR(NAME, VALUE, MESSAGE) NNCC_##NAME = VALUE,
#include "nncc/Runtime/ErrorCodes.def"
};

/* The thread pool of --threads (nncc_threads.c). */
void __nncc_pool_acquire(void);
void __nncc_pool_release(void);

/* Provided by the compiler. */
extern const int32_t __nncc_num_inputs;
extern const int32_t __nncc_num_targets;
extern const int32_t __nncc_num_outputs;
extern const int32_t __nncc_num_params;
extern const int32_t __nncc_num_states; /* optimizer state tensors */
extern const nncc_tensor_info __nncc_inputs[];
extern const nncc_tensor_info __nncc_targets[];
extern const nncc_tensor_info __nncc_outputs[];
extern const nncc_tensor_info __nncc_params[];
extern const nncc_tensor_info __nncc_states[];
extern const int64_t __nncc_batch;
extern const uint64_t __nncc_workspace_bytes;
extern const float __nncc_default_lr;
extern const int32_t __nncc_trainable;
extern const uint64_t __nncc_param_offsets[];
extern const uint64_t __nncc_param_storage_bytes;
extern const unsigned char __nncc_param_init[];
extern const uint64_t __nncc_state_offsets[];
extern const uint64_t __nncc_state_storage_bytes;
/* The loss and the optimizer, for the per-step hyperparameters and for
   checking class targets. */
extern const int32_t __nncc_loss;      /* NNCC_LOSS_* */
extern const int32_t __nncc_optimizer; /* NNCC_OPT_* */
extern const double __nncc_beta1, __nncc_beta2, __nncc_lr_decay,
    __nncc_weight_decay;
extern const int64_t __nncc_ignore_index, __nncc_num_classes;
/* Identifies the model's parameters and optimizer state in checkpoints. */
extern const uint64_t __nncc_fingerprint;
/* --check-finite: skip a step whose loss or update is not finite. */
extern const int32_t __nncc_check_finite;
/* 1 for a parameter a training step writes (trained by the optimizer, or
   batch norm's running statistics), 0 for a frozen one. */
extern const int32_t __nncc_param_written[];
/* Kernels take one array of pointers, in the order of the roles:
   forward:    inputs, params, outputs, workspace
   train_step: inputs, targets, count, hyper, params, states,
               loss, written params, states, workspace */
extern void __nncc_forward_packed(void **args);
extern void __nncc_train_step_packed(void **args);

extern const int32_t __nncc_param_running[]; /* batch norm's statistics */
/* --sync-batch-norm: batch statistics are summed across the processes. */
extern const int32_t __nncc_sync_batch_norm;

#define NNCC_ALIGN 64

enum { NNCC_LOSS_MSE, NNCC_LOSS_CROSS_ENTROPY, NNCC_LOSS_BCE, NNCC_LOSS_NONE };
enum { NNCC_OPT_SGD, NNCC_OPT_ADAM, NNCC_OPT_ADAMW, NNCC_OPT_ADAGRAD };

/* The hyperparameter vector of a step (HyperSlot in the compiler's NN.h). */
enum {
  HYPER_LR,
  HYPER_STEP,
  HYPER_ADAM_STEP_SIZE,
  HYPER_ADAM_BIAS2_SQRT,
  HYPER_ADAGRAD_LR,
  HYPER_DECAY_FACTOR,
  HYPER_STEP_LOW,
  HYPER_STEP_HIGH,
  HYPER_GRAD_SCALE,
  HYPER_SAMPLE_BASE,
  NUM_HYPER = 10
};

struct nncc_model {
  float lr;
  int64_t steps;
  unsigned char *params;    /* __nncc_param_storage_bytes, aligned */
  unsigned char *state;     /* __nncc_state_storage_bytes, aligned */
  unsigned char *workspace; /* __nncc_workspace_bytes, aligned */
  unsigned char *staging;   /* one batch of every input and target */
  int64_t *order;           /* sample order of nncc_train, grown on demand */
  int64_t order_size;
  void **args;              /* the kernel argument array */
  const void **batch_ptrs;  /* nncc_train's inputs, then targets, of a batch */
  /* A step reads the parameters and state above and writes the updated
     ones here, then the two swap: the step's kernels never write memory
     they read, which lets LLVM vectorize the updates (see
     LibraryEmitter.cpp). Frozen parameters, which no step writes, are kept
     equal in both. */
  unsigned char *next_params;
  unsigned char *next_state;
  int pooled;               /* counted among the thread pool's users */
  struct nncc_comm *comm;   /* data-parallel training (nncc_comm.c) */
};
typedef struct nncc_model nncc_model;

static inline size_t dtype_size(int32_t dtype) {
  return dtype == NNCC_INT64 ? 8 : 4;
}

static inline size_t tensor_bytes(const nncc_tensor_info *t) {
  return (size_t)t->numel * dtype_size(t->dtype);
}

/* Bytes of one sample (one index of dim 0) of a data tensor. */
static inline size_t sample_bytes(const nncc_tensor_info *t) {
  return __nncc_batch > 0 ? tensor_bytes(t) / (size_t)__nncc_batch : 0;
}

static inline void *aligned_zalloc(size_t bytes) {
  void *p = NULL;
  if (bytes == 0)
    bytes = NNCC_ALIGN;
  bytes = (bytes + NNCC_ALIGN - 1) / NNCC_ALIGN * NNCC_ALIGN;
  if (posix_memalign(&p, NNCC_ALIGN, bytes) != 0)
    return NULL;
  memset(p, 0, bytes);
  return p;
}

/* Sets the parameters and state (each NULL: unchanged) in both buffers. */
void __nncc_store_model(nncc_model *m, const void *params, const void *state);

#endif /* NNCC_RUNTIME_H */
