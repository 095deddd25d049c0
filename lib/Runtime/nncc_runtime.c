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

#include "nncc_comm.h"

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

void __nncc_store_model(nncc_model *m, const void *params, const void *state) {
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
  __nncc_comm_destroy(m->comm);
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
  m->comm = __nncc_comm_create();
  if (!m->params || !m->state || !m->next_params || !m->next_state ||
      !m->workspace || !m->staging || !m->args || !m->batch_ptrs ||
      !m->comm) {
    nncc_destroy(m);
    return NULL;
  }
  __nncc_store_model(m, __nncc_param_init, NULL);
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
  /* One process: the seed of the backward pass is 1, the batch is the
     global batch. */
  hyper[HYPER_GRAD_SCALE] = 1.0f;
  hyper[HYPER_SAMPLE_BASE] = 0.0f;
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
/* The positions the loss of a batch with `count` real samples averages
   over: the real samples' elements (MSE, BCE), their targets that are not
   the ignored index (cross-entropy), or the samples (--loss=none). */
static double loss_denominator(const void *const *targets, int64_t count) {
  if (__nncc_loss == NNCC_LOSS_NONE)
    return (double)count;
  int64_t per_sample = __nncc_targets[0].numel / __nncc_batch;
  if (__nncc_loss != NNCC_LOSS_CROSS_ENTROPY)
    return (double)(count * per_sample);
  const int64_t *t = (const int64_t *)targets[0];
  int64_t kept = 0;
  for (int64_t i = 0; i < count * per_sample; ++i)
    kept += t[i] != __nncc_ignore_index;
  return (double)kept;
}

/* A process with no real samples in a data-parallel step computes its
   running statistics from padding alone: it keeps the old ones (with
   --sync-batch-norm they are the global batch's, as everywhere else). */
static void keep_running_statistics(nncc_model *m) {
  for (int32_t i = 0; i < __nncc_num_params; ++i)
    if (__nncc_param_running[i])
      memcpy(m->next_params + __nncc_param_offsets[i], param_ptr(m, i),
             tensor_bytes(&__nncc_params[i]));
}

/* ... `base` is the global batch's index of its first sample (the rank
   times the batch in data-parallel training, 0 otherwise). */
static int train_batch(nncc_model *m, const void *const *inputs,
                       const void *const *targets, int64_t count,
                       int64_t base, float *loss) {
  float hyper[NUM_HYPER];
  fill_hyper(m, m->steps + 1, hyper);
  int parallel = __nncc_comm_active(m->comm);
  if (parallel) {
    int rc = __nncc_comm_begin_step(m->comm, loss_denominator(targets, count),
                                    &hyper[HYPER_GRAD_SCALE]);
    if (rc != NNCC_OK)
      return rc;
    hyper[HYPER_SAMPLE_BASE] = (float)base;
  }
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
  if (parallel && count == 0 && !__nncc_sync_batch_norm)
    keep_running_statistics(m);
  /* Data-parallel, the processes decide together: running statistics may
     differ between them. */
  int not_finite = __nncc_check_finite && !step_finite(m);
  if (parallel) {
    int rc = __nncc_comm_end_step(m->comm, &step_loss, &not_finite);
    if (rc != NNCC_OK)
      return rc;
  }
  *loss = step_loss;
  if (__nncc_check_finite && (not_finite || !isfinite(step_loss)))
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

/* Data-parallel: every process checked its arguments; a step needs all of
   them to pass, and rank 0's parameters on every process. */
static int agree_to_train(nncc_model *m, int rc) {
  if (!m || !__nncc_comm_active(m->comm))
    return rc;
  /* A program's engine that was not told the ranks would have every
     process take rank 0's part (its shard, its broadcast). */
  if (rc == NNCC_OK && __nncc_comm_needs_rank(m->comm))
    rc = NNCC_ERR_ARGUMENT;
  rc = __nncc_comm_agree(m->comm, rc);
  if (rc == NNCC_OK && !__nncc_comm_synced(m->comm))
    rc = nncc_broadcast_parameters(m);
  return rc;
}

int nncc_train_step(nncc_model *m, const void *const *inputs,
                    const void *const *targets, float *loss) {
  int rc = agree_to_train(m, check_training(m, inputs, targets, __nncc_batch));
  if (rc != NNCC_OK)
    return rc;
  float value = 0.0f;
  int32_t rank, world;
  rc = __nncc_comm_group(m->comm, &rank, &world);
  if (rc == NNCC_OK)
    rc = train_batch(m, inputs, targets, __nncc_batch, rank * __nncc_batch,
                     &value);
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

/* Data-parallel: every process must train on the same number of samples
   with the same options and learning rate as rank 0 (each then reads its
   own rows), and a program's engine must know the rank. */
static int agree_on_loop(nncc_model *m, int rc, int64_t num_samples,
                         int64_t epochs, const nncc_train_options *opts) {
  if (!m || !__nncc_comm_active(m->comm))
    return rc;
  uint32_t lr_bits;
  memcpy(&lr_bits, &m->lr, sizeof lr_bits);
  uint64_t mine[6] = {(uint64_t)num_samples, (uint64_t)epochs,
                      opts ? (uint64_t)opts->shuffle : 0,
                      opts ? opts->seed : 0,
                      opts ? (uint64_t)opts->report_every : 0, lr_bits};
  uint64_t root[6];
  memcpy(root, mine, sizeof mine);
  int sent = __nncc_comm_broadcast_words(m->comm, root, 6);
  if (sent != NNCC_OK)
    return rc != NNCC_OK ? rc : sent;
  if (rc == NNCC_OK && memcmp(root, mine, sizeof mine) != 0)
    rc = NNCC_ERR_ARGUMENT;
  return agree_to_train(m, rc);
}

/* After a report: 1 to stop, 0 to go on, or an error code. Data-parallel,
   all stop when any process's progress function asked to. */
static int agree_to_stop(nncc_model *m, int stop) {
  if (!__nncc_comm_active(m->comm))
    return stop;
  int rc = __nncc_comm_agree(m->comm, stop ? NNCC_ERR_ARGUMENT : NNCC_OK);
  if (rc == NNCC_ERR_COMM)
    return rc;
  return rc != NNCC_OK;
}

int nncc_train(nncc_model *m, const void *const *inputs,
               const void *const *targets, int64_t num_samples, int64_t epochs,
               const nncc_train_options *opts, nncc_progress_fn progress,
               void *user) {
  int rc = check_training(m, inputs, targets, num_samples);
  if (rc == NNCC_OK && (epochs < 0 || (opts && opts->report_every < 0)))
    rc = NNCC_ERR_ARGUMENT;
  if (rc == NNCC_OK && m->order_size < num_samples) {
    int64_t *order = (int64_t *)realloc(m->order,
                                        (size_t)num_samples * sizeof(int64_t));
    if (order) {
      m->order = order;
      m->order_size = num_samples;
    } else {
      rc = NNCC_ERR_NOMEM;
    }
  }
  rc = agree_on_loop(m, rc, num_samples, epochs, opts);
  if (rc != NNCC_OK)
    return rc;
  /* Each global batch is `world` batches, one per process, by rank. */
  int32_t rank = 0, world = 1;
  rc = __nncc_comm_group(m->comm, &rank, &world);
  if (rc != NNCC_OK)
    return rc;
  if (num_samples == 0 || epochs == 0)
    return NNCC_OK;
  int shuffle = opts && opts->shuffle;
  int64_t report_every = opts ? opts->report_every : 0;
  uint64_t rng = opts ? opts->seed : 0;
  const int64_t batch = __nncc_batch, global = batch * world;
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
    for (int64_t start = 0; start < num_samples; start += global) {
      int64_t in_batch =
          num_samples - start < global ? num_samples - start : global;
      /* This process's rows of the global batch. */
      int64_t first = start + rank * batch;
      int64_t count = num_samples - first < batch ? num_samples - first : batch;
      if (count < 0)
        count = 0;
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
      rc = train_batch(m, batch_in, batch_tg, count, first - start, &loss);
      if (rc != NNCC_OK)
        return rc; /* a skipped step ends the loop: the caller decides */
      loss_sum += (double)loss * (double)in_batch;
      loss_samples += in_batch;
      ++since_report;
      int end_of_epoch = start + global >= num_samples;
      int report = report_every > 0 ? since_report >= report_every
                                    : end_of_epoch;
      if (report && progress) {
        float mean = (float)(loss_sum / (double)loss_samples);
        loss_sum = 0.0;
        loss_samples = 0;
        since_report = 0;
        int stop =
            agree_to_stop(m, progress(user, epoch, m->steps, mean) != 0);
        if (stop != 0) /* stopped early by the caller, or an error */
          return stop < 0 ? stop : NNCC_OK;
      } else if (report) {
        loss_sum = 0.0;
        loss_samples = 0;
        since_report = 0;
        int stop = agree_to_stop(m, 0);
        if (stop != 0)
          return stop < 0 ? stop : NNCC_OK;
      }
    }
  }
  return NNCC_OK;
}
