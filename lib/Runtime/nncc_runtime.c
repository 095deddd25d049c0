/*===- nncc_runtime.c - The generated library's C interface -----------===*
 *
 * Everything in a generated library that is not tensor math: the ABI.md
 * functions, argument checks, model lifecycle, the training loop over
 * minibatches. Compiled to LLVM bitcode when nncc is built and linked into
 * every generated module; its `nncc_*` functions are renamed to the
 * library's prefix and everything else is internalized.
 *
 * The compiler provides the model-specific parts as the `__nncc_*` symbols
 * declared below (see include/nncc/Target/RuntimeABI.h, which must agree).
 * Only libc is used.
 *
 *===------------------------------------------------------------------===*/

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
  NUM_HYPER = 8
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
};
typedef struct nncc_model nncc_model;

static size_t dtype_size(int32_t dtype) {
  return dtype == NNCC_INT64 ? 8 : 4;
}

static size_t tensor_bytes(const nncc_tensor_info *t) {
  return (size_t)t->numel * dtype_size(t->dtype);
}

/* Bytes of one sample (one index of dim 0) of a data tensor. */
static size_t sample_bytes(const nncc_tensor_info *t) {
  return __nncc_batch > 0 ? tensor_bytes(t) / (size_t)__nncc_batch : 0;
}

static void *aligned_zalloc(size_t bytes) {
  void *p = NULL;
  if (bytes == 0)
    bytes = NNCC_ALIGN;
  bytes = (bytes + NNCC_ALIGN - 1) / NNCC_ALIGN * NNCC_ALIGN;
  if (posix_memalign(&p, NNCC_ALIGN, bytes) != 0)
    return NULL;
  memset(p, 0, bytes);
  return p;
}

/*===-------------------------- introspection ---------------------------===*/

int32_t nncc_num_inputs(void) { return __nncc_num_inputs; }
int32_t nncc_num_targets(void) { return __nncc_num_targets; }
int32_t nncc_num_outputs(void) { return __nncc_num_outputs; }
int32_t nncc_num_params(void) { return __nncc_num_params; }

const nncc_tensor_info *nncc_input_info(int32_t i) {
  return i >= 0 && i < __nncc_num_inputs ? &__nncc_inputs[i] : NULL;
}
const nncc_tensor_info *nncc_target_info(int32_t i) {
  return i >= 0 && i < __nncc_num_targets ? &__nncc_targets[i] : NULL;
}
const nncc_tensor_info *nncc_output_info(int32_t i) {
  return i >= 0 && i < __nncc_num_outputs ? &__nncc_outputs[i] : NULL;
}
const nncc_tensor_info *nncc_param_info(int32_t i) {
  return i >= 0 && i < __nncc_num_params ? &__nncc_params[i] : NULL;
}

int64_t nncc_batch_size(void) { return __nncc_batch; }
size_t nncc_workspace_bytes(void) { return (size_t)__nncc_workspace_bytes; }

const char *nncc_strerror(int code) {
  switch (code) {
#define NNCC_ERROR(NAME, VALUE, MESSAGE)                                       \
  case VALUE:                                                                  \
    return MESSAGE;
#include "nncc/Runtime/ErrorCodes.def"
  default:
    return "unknown error code";
  }
}

/*===----------------------------- lifecycle ----------------------------===*/

/* Sets the parameters and state (each NULL: unchanged) in both buffers. */
static void store_model(nncc_model *m, const void *params, const void *state) {
  if (params && __nncc_param_storage_bytes) {
    memcpy(m->params, params, (size_t)__nncc_param_storage_bytes);
    memcpy(m->next_params, params, (size_t)__nncc_param_storage_bytes);
  }
  if (state && __nncc_state_storage_bytes) {
    memcpy(m->state, state, (size_t)__nncc_state_storage_bytes);
    memcpy(m->next_state, state, (size_t)__nncc_state_storage_bytes);
  }
}

void nncc_destroy(nncc_model *m) {
  if (!m)
    return;
  if (m->pooled)
    __nncc_pool_release();
  free(m->params);
  free(m->state);
  free(m->workspace);
  free(m->staging);
  free(m->order);
  free(m->args);
  free(m->batch_ptrs);
  free(m->next_params);
  free(m->next_state);
  free(m);
}

nncc_model *nncc_create(void) {
  nncc_model *m = (nncc_model *)calloc(1, sizeof(nncc_model));
  if (!m)
    return NULL;
  m->lr = __nncc_default_lr;
  m->params = (unsigned char *)aligned_zalloc(__nncc_param_storage_bytes);
  m->state = (unsigned char *)aligned_zalloc(__nncc_state_storage_bytes);
  m->next_params = (unsigned char *)aligned_zalloc(__nncc_param_storage_bytes);
  m->next_state = (unsigned char *)aligned_zalloc(__nncc_state_storage_bytes);
  m->workspace = (unsigned char *)aligned_zalloc(__nncc_workspace_bytes);
  size_t staging = 0;
  for (int32_t i = 0; i < __nncc_num_inputs; ++i)
    staging += tensor_bytes(&__nncc_inputs[i]) + NNCC_ALIGN;
  for (int32_t i = 0; i < __nncc_num_targets; ++i)
    staging += tensor_bytes(&__nncc_targets[i]) + NNCC_ALIGN;
  m->staging = (unsigned char *)aligned_zalloc(staging);
  size_t nargs = (size_t)__nncc_num_inputs + __nncc_num_targets +
                 2 * ((size_t)__nncc_num_params + __nncc_num_states) +
                 __nncc_num_outputs + 5;
  m->args = (void **)calloc(nargs, sizeof(void *));
  m->batch_ptrs = (const void **)calloc(
      (size_t)__nncc_num_inputs + __nncc_num_targets + 1, sizeof(void *));
  if (!m->params || !m->state || !m->next_params || !m->next_state ||
      !m->workspace || !m->staging || !m->args || !m->batch_ptrs) {
    nncc_destroy(m);
    return NULL;
  }
  store_model(m, __nncc_param_init, NULL);
  __nncc_pool_acquire();
  m->pooled = 1;
  return m;
}

/*===-------------------------- parameters ------------------------------===*/

static void *param_ptr(const nncc_model *m, int32_t i) {
  return m->params + __nncc_param_offsets[i];
}

static void *state_ptr(const nncc_model *m, int32_t i) {
  return m->state + __nncc_state_offsets[i];
}

int nncc_get_param(const nncc_model *m, int32_t i, void *dst, int64_t numel) {
  if (!m || !dst)
    return NNCC_ERR_NULL;
  if (i < 0 || i >= __nncc_num_params)
    return NNCC_ERR_INDEX;
  if (numel != __nncc_params[i].numel)
    return NNCC_ERR_SIZE;
  memcpy(dst, param_ptr(m, i), tensor_bytes(&__nncc_params[i]));
  return NNCC_OK;
}

int nncc_set_param(nncc_model *m, int32_t i, const void *src, int64_t numel) {
  if (!m || !src)
    return NNCC_ERR_NULL;
  if (i < 0 || i >= __nncc_num_params)
    return NNCC_ERR_INDEX;
  if (numel != __nncc_params[i].numel)
    return NNCC_ERR_SIZE;
  memcpy(param_ptr(m, i), src, tensor_bytes(&__nncc_params[i]));
  memcpy(m->next_params + __nncc_param_offsets[i], src,
         tensor_bytes(&__nncc_params[i]));
  return NNCC_OK;
}

int nncc_set_learning_rate(nncc_model *m, float lr) {
  if (!m)
    return NNCC_ERR_NULL;
  if (!(lr >= 0.0f) || isinf(lr))
    return NNCC_ERR_ARGUMENT;
  m->lr = lr;
  return NNCC_OK;
}

float nncc_get_learning_rate(const nncc_model *m) {
  return m ? m->lr : NAN;
}

/*===--------------------------- computation ----------------------------===*/

static int check_array(const void *const *array, int32_t n) {
  if (n == 0)
    return NNCC_OK;
  if (!array)
    return NNCC_ERR_NULL;
  for (int32_t i = 0; i < n; ++i)
    if (!array[i])
      return NNCC_ERR_NULL;
  return NNCC_OK;
}

int nncc_forward(nncc_model *m, const void *const *inputs,
                 void *const *outputs) {
  if (!m)
    return NNCC_ERR_NULL;
  int rc = check_array(inputs, __nncc_num_inputs);
  if (rc == NNCC_OK)
    rc = check_array((const void *const *)outputs, __nncc_num_outputs);
  if (rc != NNCC_OK)
    return rc;
  void **a = m->args;
  for (int32_t i = 0; i < __nncc_num_inputs; ++i)
    *a++ = (void *)inputs[i];
  for (int32_t i = 0; i < __nncc_num_params; ++i)
    *a++ = param_ptr(m, i);
  for (int32_t i = 0; i < __nncc_num_outputs; ++i)
    *a++ = outputs[i];
  *a++ = m->workspace;
  __nncc_forward_packed(m->args);
  return NNCC_OK;
}

/* The hyperparameters of step t (1-based), computed in double as
   torch.optim computes its Python scalars. */
static void fill_hyper(const nncc_model *m, int64_t t, float *hyper) {
  double lr = m->lr, step = (double)t;
  memset(hyper, 0, NUM_HYPER * sizeof(float));
  hyper[HYPER_LR] = m->lr;
  hyper[HYPER_STEP] = (float)step;
  hyper[HYPER_ADAM_STEP_SIZE] = (float)(lr / (1.0 - pow(__nncc_beta1, step)));
  hyper[HYPER_ADAM_BIAS2_SQRT] = (float)sqrt(1.0 - pow(__nncc_beta2, step));
  hyper[HYPER_ADAGRAD_LR] = (float)(lr / (1.0 + (step - 1.0) * __nncc_lr_decay));
  hyper[HYPER_DECAY_FACTOR] = (float)(1.0 - lr * __nncc_weight_decay);
  /* The step exactly, in two floats of 24 bits, for dropout masks. */
  hyper[HYPER_STEP_LOW] = (float)(t & 0xFFFFFF);
  hyper[HYPER_STEP_HIGH] = (float)((uint64_t)t >> 24);
}

static int all_finite(const float *values, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (!isfinite(values[i]))
      return 0;
  return 1;
}

/* Whether every float parameter and state tensor a step wrote is finite. */
static int step_finite(const nncc_model *m) {
  for (int32_t i = 0; i < __nncc_num_params; ++i)
    if (__nncc_params[i].dtype == NNCC_FLOAT &&
        !all_finite((const float *)(m->next_params + __nncc_param_offsets[i]),
                    (size_t)__nncc_params[i].numel))
      return 0;
  for (int32_t i = 0; i < __nncc_num_states; ++i)
    if (!all_finite((const float *)(m->next_state + __nncc_state_offsets[i]),
                    (size_t)__nncc_states[i].numel))
      return 0;
  return 1;
}

/* One step on a batch whose first `count` samples are real. The updated
   parameters and states go to the other buffers, which become the model's
   when the step is done. With --check-finite, a step whose loss or results
   are not finite (a non-finite gradient makes its update non-finite) is
   dropped: the model keeps the buffers it had. */
static int train_batch(nncc_model *m, const void *const *inputs,
                       const void *const *targets, int64_t count,
                       float *loss) {
  float hyper[NUM_HYPER];
  fill_hyper(m, m->steps + 1, hyper);
  void **a = m->args;
  for (int32_t i = 0; i < __nncc_num_inputs; ++i)
    *a++ = (void *)inputs[i];
  for (int32_t i = 0; i < __nncc_num_targets; ++i)
    *a++ = (void *)targets[i];
  *a++ = &count;
  *a++ = hyper;
  for (int32_t i = 0; i < __nncc_num_params; ++i)
    *a++ = param_ptr(m, i);
  for (int32_t i = 0; i < __nncc_num_states; ++i)
    *a++ = state_ptr(m, i);
  /* The kernel's arguments must not overlap: the loss goes to a local. */
  float step_loss = 0.0f;
  *a++ = &step_loss;
  for (int32_t i = 0; i < __nncc_num_params; ++i)
    if (__nncc_param_written[i])
      *a++ = m->next_params + __nncc_param_offsets[i];
  for (int32_t i = 0; i < __nncc_num_states; ++i)
    *a++ = m->next_state + __nncc_state_offsets[i];
  *a++ = m->workspace;
  __nncc_train_step_packed(m->args);
  *loss = step_loss;
  if (__nncc_check_finite && (!isfinite(step_loss) || !step_finite(m)))
    return NNCC_ERR_NOT_FINITE;
  unsigned char *swap = m->params;
  m->params = m->next_params;
  m->next_params = swap;
  swap = m->state;
  m->state = m->next_state;
  m->next_state = swap;
  /* Frozen parameters are not written by the step: the new buffer has
     them already, and the old one keeps them for the next step. */
  m->steps += 1;
  return NNCC_OK;
}

/* Class targets must name a class or be the ignored index, as torch
   requires; the first `samples` samples of the target are checked. */
static int check_class_targets(const void *const *targets, int64_t samples) {
  if (__nncc_loss != NNCC_LOSS_CROSS_ENTROPY)
    return NNCC_OK;
  const int64_t *t = (const int64_t *)targets[0];
  int64_t n = samples * (__nncc_targets[0].numel / __nncc_batch);
  for (int64_t i = 0; i < n; ++i)
    if ((t[i] < 0 || t[i] >= __nncc_num_classes) && t[i] != __nncc_ignore_index)
      return NNCC_ERR_ARGUMENT;
  return NNCC_OK;
}

/* The checks common to the training functions: a model, a training library,
   every input and target, and class targets for `samples` samples. */
static int check_training(const nncc_model *m, const void *const *inputs,
                          const void *const *targets, int64_t samples) {
  if (!m)
    return NNCC_ERR_NULL;
  if (!__nncc_trainable)
    return NNCC_ERR_NO_TRAINING;
  int rc = check_array(inputs, __nncc_num_inputs);
  if (rc == NNCC_OK)
    rc = check_array(targets, __nncc_num_targets);
  if (rc == NNCC_OK && samples < 0)
    rc = NNCC_ERR_ARGUMENT;
  if (rc == NNCC_OK)
    rc = check_class_targets(targets, samples);
  return rc;
}

int nncc_train_step(nncc_model *m, const void *const *inputs,
                    const void *const *targets, float *loss) {
  int rc = check_training(m, inputs, targets, __nncc_batch);
  if (rc != NNCC_OK)
    return rc;
  float value = 0.0f;
  rc = train_batch(m, inputs, targets, __nncc_batch, &value);
  if (loss)
    *loss = value;
  return rc;
}

/*===------------------------- the training loop ------------------------===*/

/* splitmix64: the documented generator behind shuffling (docs/abi.md). */
static uint64_t splitmix64(uint64_t *state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* A uniform integer in [0, bound) without modulo bias. */
static uint64_t uniform(uint64_t *state, uint64_t bound) {
  uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
  uint64_t r;
  do
    r = splitmix64(state);
  while (r >= limit);
  return r % bound;
}

/* Copies samples order[first .. first+count) of every data tensor into the
   staging buffers, zero-filling the rest of the batch, and points `in` and
   `tg` at them. */
static void gather_batch(nncc_model *m, const void *const *inputs,
                         const void *const *targets, const int64_t *order,
                         int64_t first, int64_t count, const void **in,
                         const void **tg) {
  unsigned char *dst = m->staging;
  for (int32_t k = 0; k < __nncc_num_inputs + __nncc_num_targets; ++k) {
    int is_input = k < __nncc_num_inputs;
    const nncc_tensor_info *t = is_input ? &__nncc_inputs[k]
                                         : &__nncc_targets[k - __nncc_num_inputs];
    const unsigned char *src = (const unsigned char *)(
        is_input ? inputs[k] : targets[k - __nncc_num_inputs]);
    size_t sb = sample_bytes(t);
    for (int64_t s = 0; s < count; ++s)
      memcpy(dst + (size_t)s * sb, src + (size_t)order[first + s] * sb, sb);
    memset(dst + (size_t)count * sb, 0, tensor_bytes(t) - (size_t)count * sb);
    if (is_input)
      in[k] = dst;
    else
      tg[k - __nncc_num_inputs] = dst;
    dst += (tensor_bytes(t) + NNCC_ALIGN - 1) / NNCC_ALIGN * NNCC_ALIGN;
  }
}

int nncc_train(nncc_model *m, const void *const *inputs,
               const void *const *targets, int64_t num_samples, int64_t epochs,
               const nncc_train_options *opts, nncc_progress_fn progress,
               void *user) {
  int rc = check_training(m, inputs, targets, num_samples);
  if (rc != NNCC_OK)
    return rc;
  if (epochs < 0 || (opts && opts->report_every < 0))
    return NNCC_ERR_ARGUMENT;
  if (num_samples == 0 || epochs == 0)
    return NNCC_OK;
  if (m->order_size < num_samples) {
    int64_t *order = (int64_t *)realloc(m->order,
                                        (size_t)num_samples * sizeof(int64_t));
    if (!order)
      return NNCC_ERR_NOMEM;
    m->order = order;
    m->order_size = num_samples;
  }
  int shuffle = opts && opts->shuffle;
  int64_t report_every = opts ? opts->report_every : 0;
  uint64_t rng = opts ? opts->seed : 0;
  const int64_t batch = __nncc_batch;
  const void **batch_in = m->batch_ptrs;
  const void **batch_tg = m->batch_ptrs + __nncc_num_inputs;

  double loss_sum = 0.0; /* sample-weighted, since the last report */
  int64_t loss_samples = 0, since_report = 0;
  for (int64_t epoch = 0; epoch < epochs; ++epoch) {
    for (int64_t i = 0; i < num_samples; ++i)
      m->order[i] = i;
    if (shuffle) /* Fisher-Yates, from the last element down. */
      for (int64_t i = num_samples - 1; i > 0; --i) {
        int64_t j = (int64_t)uniform(&rng, (uint64_t)i + 1);
        int64_t t = m->order[i];
        m->order[i] = m->order[j];
        m->order[j] = t;
      }
    for (int64_t first = 0; first < num_samples; first += batch) {
      int64_t count = num_samples - first < batch ? num_samples - first : batch;
      float loss = 0.0f;
      if (count == batch && !shuffle) {
        /* A full batch in order: read the caller's arrays in place. */
        for (int32_t k = 0; k < __nncc_num_inputs; ++k)
          batch_in[k] = (const unsigned char *)inputs[k] +
                        (size_t)first * sample_bytes(&__nncc_inputs[k]);
        for (int32_t k = 0; k < __nncc_num_targets; ++k)
          batch_tg[k] = (const unsigned char *)targets[k] +
                        (size_t)first * sample_bytes(&__nncc_targets[k]);
      } else {
        gather_batch(m, inputs, targets, m->order, first, count, batch_in,
                     batch_tg);
      }
      rc = train_batch(m, batch_in, batch_tg, count, &loss);
      if (rc != NNCC_OK)
        return rc; /* a skipped step ends the loop: the caller decides */
      loss_sum += (double)loss * (double)count;
      loss_samples += count;
      ++since_report;
      int end_of_epoch = first + batch >= num_samples;
      int report = report_every > 0 ? since_report >= report_every
                                    : end_of_epoch;
      if (report && progress) {
        float mean = (float)(loss_sum / (double)loss_samples);
        loss_sum = 0.0;
        loss_samples = 0;
        since_report = 0;
        if (progress(user, epoch, m->steps, mean) != 0)
          return NNCC_OK; /* stopped early by the caller */
      } else if (report) {
        loss_sum = 0.0;
        loss_samples = 0;
        since_report = 0;
      }
    }
  }
  return NNCC_OK;
}

/*===---------------------------- checkpoints ---------------------------===*/

/* Layout (docs/abi.md): a header of six 64-bit little-endian words --
   magic "NNCCCKPT", format version, model fingerprint, step count, parameter
   bytes, state bytes -- then the parameters and the state as the model
   stores them, then an FNV-1a 64 checksum of everything before it. */
#define CKPT_HEADER_WORDS 6
#define CKPT_VERSION 1
static const char kMagic[8] = {'N', 'N', 'C', 'C', 'C', 'K', 'P', 'T'};

static uint64_t fnv1a(uint64_t hash, const unsigned char *data, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    hash ^= data[i];
    hash *= 0x100000001B3ull;
  }
  return hash;
}

static size_t checkpoint_bytes(void) {
  return CKPT_HEADER_WORDS * 8 + (size_t)__nncc_param_storage_bytes +
         (size_t)__nncc_state_storage_bytes + 8;
}

int nncc_save(const nncc_model *m, const char *path) {
  if (!m || !path)
    return NNCC_ERR_NULL;
  uint64_t header[CKPT_HEADER_WORDS];
  memcpy(&header[0], kMagic, 8);
  header[1] = CKPT_VERSION;
  header[2] = __nncc_fingerprint;
  header[3] = (uint64_t)m->steps;
  header[4] = __nncc_param_storage_bytes;
  header[5] = __nncc_state_storage_bytes;
  uint64_t sum = 0xCBF29CE484222325ull;
  sum = fnv1a(sum, (const unsigned char *)header, sizeof header);
  sum = fnv1a(sum, m->params, (size_t)__nncc_param_storage_bytes);
  sum = fnv1a(sum, m->state, (size_t)__nncc_state_storage_bytes);

  /* Write a temporary file beside the target, make it durable, then rename
     it over the target: a crash at any point leaves the old file intact. */
  size_t len = strlen(path);
  char *temp = (char *)malloc(len + 16);
  if (!temp)
    return NNCC_ERR_NOMEM;
  memcpy(temp, path, len);
  memcpy(temp + len, ".tmp-XXXXXX", 12);
  int fd = mkstemp(temp);
  if (fd < 0) {
    free(temp);
    return NNCC_ERR_IO;
  }
  FILE *f = fdopen(fd, "wb");
  int ok = f != NULL;
  if (ok)
    ok = fwrite(header, sizeof header, 1, f) == 1 &&
         (__nncc_param_storage_bytes == 0 ||
          fwrite(m->params, (size_t)__nncc_param_storage_bytes, 1, f) == 1) &&
         (__nncc_state_storage_bytes == 0 ||
          fwrite(m->state, (size_t)__nncc_state_storage_bytes, 1, f) == 1) &&
         fwrite(&sum, sizeof sum, 1, f) == 1 && fflush(f) == 0 &&
         fsync(fileno(f)) == 0;
  if (f)
    ok = fclose(f) == 0 && ok;
  else
    close(fd);
  if (ok)
    ok = rename(temp, path) == 0;
  if (!ok)
    unlink(temp);
  free(temp);
  return ok ? NNCC_OK : NNCC_ERR_IO;
}

int nncc_load(nncc_model *m, const char *path) {
  if (!m || !path)
    return NNCC_ERR_NULL;
  FILE *f = fopen(path, "rb");
  if (!f)
    return NNCC_ERR_IO;
  /* Read the whole file, one byte more than expected to detect extra data;
     nothing is copied into the model before every check passed. */
  size_t expected = checkpoint_bytes();
  unsigned char *data = (unsigned char *)malloc(expected + 1);
  if (!data) {
    fclose(f);
    return NNCC_ERR_NOMEM;
  }
  size_t got = fread(data, 1, expected + 1, f);
  int read_error = ferror(f);
  fclose(f);
  int rc = NNCC_OK;
  uint64_t header[CKPT_HEADER_WORDS];
  if (read_error)
    rc = NNCC_ERR_IO;
  else if (got < sizeof header || memcmp(data, kMagic, 8) != 0)
    rc = NNCC_ERR_BAD_CHECKPOINT;
  if (rc == NNCC_OK) {
    memcpy(header, data, sizeof header);
    if (header[1] != CKPT_VERSION)
      rc = NNCC_ERR_BAD_CHECKPOINT;
    else if (header[2] != __nncc_fingerprint ||
             header[4] != __nncc_param_storage_bytes ||
             header[5] != __nncc_state_storage_bytes)
      rc = NNCC_ERR_WRONG_MODEL;
    else if (got != expected)
      rc = NNCC_ERR_BAD_CHECKPOINT;
  }
  if (rc == NNCC_OK) {
    uint64_t sum, stored;
    sum = fnv1a(0xCBF29CE484222325ull, data, expected - 8);
    memcpy(&stored, data + expected - 8, 8);
    if (sum != stored || (int64_t)header[3] < 0)
      rc = NNCC_ERR_BAD_CHECKPOINT;
  }
  if (rc == NNCC_OK) {
    const unsigned char *p = data + sizeof header;
    store_model(m, p, p + __nncc_param_storage_bytes);
    m->steps = (int64_t)header[3];
  }
  free(data);
  return rc;
}
