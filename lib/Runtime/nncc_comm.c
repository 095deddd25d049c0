/*===- nncc_comm.c - Data-parallel training -----------------------------===*
 *
 * A model trains data-parallel once it has a collective engine (see
 * nncc_comm.h): every process holds the whole model, takes its share of
 * each global batch, and sums the gradients across the processes before
 * the optimizer update, so that N processes compute what one computes on
 * the global batch.
 *
 * The training step hands each gradient over where the backward pass
 * completes it (__nncc_gradient_ready, from nn.gradient_ready) and takes
 * it back before its update (__nncc_gradient_wait). Gradients are copied
 * (the step's kernel scaled them already) into buckets in the order they complete, as PyTorch DDP packs
 * them: the first bucket holds about 1 MiB, the others about 25 MiB, and a
 * bucket's sum starts as soon as its last gradient is in, so that it runs
 * while the backward pass goes on. The first step lays the buckets out;
 * every process runs the same kernel and lays them out alike.
 *
 *===------------------------------------------------------------------===*/

#include "nncc_comm.h"

/* PyTorch DDP's bucket sizes, unless nncc_set_bucket_bytes says others. */
#define FIRST_BUCKET_BYTES ((size_t)1 << 20)
#define BUCKET_BYTES ((size_t)25 << 20)
/* Each gradient starts at a multiple of 16 floats (64 bytes). */
#define SLOT_ALIGN 16

enum { BUCKET_FILLING, BUCKET_STARTED, BUCKET_SUMMED };

struct nncc_comm {
  nncc_engine engine; /* engine.allreduce == NULL: a single process */
  /* The user's engine (nncc_set_allreduce, nncc_set_broadcast). */
  int (*user_allreduce)(float *, size_t, void *);
  int (*user_broadcast)(float *, size_t, void *);
  void *allreduce_user, *broadcast_user;
  int32_t user_rank, user_world;
  int rank_set; /* nncc_set_rank was called */
  int synced;

  /* The step in flight. */
  float scale; /* local loss positions / global ones: the step's seed */
  int no_loss; /* no loss positions here: its gradients are 0 (or 0/0) */
  int error;   /* a collective of the step failed here */

  /* The buckets, laid out by the first step. */
  float *staging;       /* every synced gradient, bucket after bucket */
  int64_t *offset;      /* per parameter: its first float, -1: none */
  int32_t *bucket_of;   /* per parameter */
  int64_t *bucket_first, *bucket_floats;
  int32_t *bucket_size; /* gradients per bucket */
  float **bucket_data;  /* what a bucket sums this step */
  int32_t *bucket_ready;
  unsigned char *bucket_state;
  int32_t num_buckets;
  int64_t used; /* floats of `staging` laid out */
  int64_t first_bucket_floats, bucket_floats_limit;
  int laid_out;
};

/* The model whose step runs on this thread, for the kernel's calls.
   Initial-exec: glibc's dynamic TLS would need __tls_get_addr from ld.so,
   and a library loaded with dlopen gets these 8 bytes from the static TLS
   that glibc keeps in reserve for that. */
static _Thread_local __attribute__((tls_model("initial-exec")))
struct nncc_comm *stepping;

__attribute__((weak)) int __nncc_default_engine(nncc_engine *engine) {
  (void)engine;
  return 0;
}

/*===--------------------------- lifecycle ------------------------------===*/

struct nncc_comm *__nncc_comm_create(void) {
  struct nncc_comm *c = (struct nncc_comm *)calloc(1, sizeof *c);
  if (!c)
    return NULL;
  int64_t floats = 0;
  for (int32_t i = 0; i < __nncc_num_params; ++i)
    floats += (__nncc_params[i].numel + SLOT_ALIGN - 1) / SLOT_ALIGN *
              SLOT_ALIGN;
  size_t n = (size_t)__nncc_num_params + 1;
  c->staging = (float *)aligned_zalloc((size_t)floats * sizeof(float));
  c->offset = (int64_t *)malloc(n * sizeof(int64_t));
  c->bucket_of = (int32_t *)malloc(n * sizeof(int32_t));
  c->bucket_first = (int64_t *)calloc(n, sizeof(int64_t));
  c->bucket_floats = (int64_t *)calloc(n, sizeof(int64_t));
  c->bucket_size = (int32_t *)calloc(n, sizeof(int32_t));
  c->bucket_data = (float **)calloc(n, sizeof(float *));
  c->bucket_ready = (int32_t *)calloc(n, sizeof(int32_t));
  c->bucket_state = (unsigned char *)calloc(n, 1);
  if (!c->staging || !c->offset || !c->bucket_of || !c->bucket_first ||
      !c->bucket_floats || !c->bucket_size || !c->bucket_data ||
      !c->bucket_ready ||
      !c->bucket_state) {
    __nncc_comm_destroy(c);
    return NULL;
  }
  for (int32_t i = 0; i < __nncc_num_params; ++i) {
    c->offset[i] = -1;
    c->bucket_of[i] = -1;
  }
  c->user_world = 1;
  c->first_bucket_floats = (int64_t)(FIRST_BUCKET_BYTES / sizeof(float));
  c->bucket_floats_limit = (int64_t)(BUCKET_BYTES / sizeof(float));
  nncc_engine builtin;
  memset(&builtin, 0, sizeof builtin);
  int made = __nncc_default_engine(&builtin);
  if (made < 0) {
    __nncc_comm_destroy(c);
    return NULL;
  }
  if (made)
    c->engine = builtin;
  return c;
}

void __nncc_comm_destroy(struct nncc_comm *c) {
  if (!c)
    return;
  if (c->engine.destroy)
    c->engine.destroy(c->engine.ctx);
  free(c->staging);
  free(c->offset);
  free(c->bucket_of);
  free(c->bucket_first);
  free(c->bucket_floats);
  free(c->bucket_size);
  free(c->bucket_data);
  free(c->bucket_ready);
  free(c->bucket_state);
  free(c);
}

void __nncc_comm_set_engine(struct nncc_comm *c, const nncc_engine *engine) {
  if (c->engine.destroy)
    c->engine.destroy(c->engine.ctx);
  memset(&c->engine, 0, sizeof c->engine);
  if (engine)
    c->engine = *engine;
  c->synced = 0;
}

int __nncc_comm_active(const struct nncc_comm *c) {
  return c && c->engine.allreduce != NULL;
}

int __nncc_comm_group(struct nncc_comm *c, int32_t *rank, int32_t *world) {
  *rank = 0;
  *world = 1;
  if (!__nncc_comm_active(c))
    return NNCC_OK;
  return c->engine.group(c->engine.ctx, rank, world) == 0 ? NNCC_OK
                                                          : NNCC_ERR_COMM;
}

static int user_group(void *ctx, int32_t *rank, int32_t *world);

/* Whether the group is known to be this process alone: MPI's says so; a
   program's engine only once nncc_set_rank said so. */
static int alone(struct nncc_comm *c, int32_t world) {
  return world == 1 && (c->engine.group != user_group || c->rank_set);
}

int __nncc_comm_needs_rank(const struct nncc_comm *c) {
  return __nncc_comm_active(c) && c->engine.group == user_group &&
         !c->rank_set;
}

int __nncc_comm_synced(const struct nncc_comm *c) { return c->synced; }

/*===------------------------ small collectives -------------------------===*/

int __nncc_comm_agree(struct nncc_comm *c, int rc) {
  float failed = rc != NNCC_OK ? 1.0f : 0.0f;
  if (c->engine.allreduce(c->engine.ctx, &failed, 1) != 0)
    return rc != NNCC_OK ? rc : NNCC_ERR_COMM;
  if (rc != NNCC_OK)
    return rc;
  return failed > 0.0f ? NNCC_ERR_PEER : NNCC_OK;
}

/* 16 bits a float: exact whatever the engine does with float bits (the
   fallback broadcast adds zeros, which turns -0 into +0, quietens NaNs and
   may flush subnormals). */
int __nncc_comm_broadcast_words(struct nncc_comm *c, uint64_t *words,
                                size_t n) {
  float halves[64];
  if (n > 16)
    return NNCC_ERR_ARGUMENT;
  for (size_t i = 0; i < 4 * n; ++i)
    halves[i] = (float)((words[i / 4] >> (16 * (i % 4))) & 0xFFFF);
  if (c->engine.broadcast(c->engine.ctx, halves, 4 * n) != 0)
    return NNCC_ERR_COMM;
  for (size_t i = 0; i < n; ++i) {
    words[i] = 0;
    for (size_t k = 0; k < 4; ++k)
      words[i] |= (uint64_t)halves[4 * i + k] << (16 * k);
  }
  return NNCC_OK;
}

int __nncc_comm_broadcast(struct nncc_comm *c, void *bytes, size_t n) {
  /* Chunks keep each call's count within an MPI int. */
  const size_t chunk = (size_t)1 << 28;
  float *data = (float *)bytes;
  for (size_t done = 0; done < n / 4; done += chunk) {
    size_t count = n / 4 - done < chunk ? n / 4 - done : chunk;
    if (c->engine.broadcast(c->engine.ctx, data + done, count) != 0)
      return NNCC_ERR_COMM;
  }
  return NNCC_OK;
}

/*===-------------------------- a step's sums ---------------------------===*/

int __nncc_comm_begin_step(struct nncc_comm *c, double denominator,
                           float *grad_scale) {
  c->error = 0;
  c->no_loss = denominator == 0.0;
  /* A group of one sums nothing: the step runs as without an engine. */
  int32_t rank, world;
  if (__nncc_comm_group(c, &rank, &world) != NNCC_OK)
    return NNCC_ERR_COMM;
  if (alone(c, world)) {
    c->scale = 1.0f;
    c->no_loss = 0;
    return NNCC_OK;
  }
  float total = (float)denominator;
  if (c->engine.allreduce(c->engine.ctx, &total, 1) != 0)
    return NNCC_ERR_COMM;
  c->scale = total > 0.0f ? (float)(denominator / (double)total) : 0.0f;
  *grad_scale = c->scale;
  for (int32_t b = 0; b < c->num_buckets; ++b) {
    c->bucket_ready[b] = 0;
    c->bucket_state[b] = BUCKET_FILLING;
  }
  stepping = c;
  return NNCC_OK;
}

int __nncc_comm_end_step(struct nncc_comm *c, float *loss, int *not_finite) {
  if (!stepping) /* a group of one */
    return NNCC_OK;
  stepping = NULL;
  /* One sum for the loss, the failures and the non-finite updates, made
     by every process even after a failure of its own, so that every
     process takes the same calls and reaches the same verdict. */
  float sums[3] = {c->no_loss ? 0.0f : *loss * c->scale,
                   c->error ? 1.0f : 0.0f, *not_finite ? 1.0f : 0.0f};
  if (c->engine.allreduce(c->engine.ctx, sums, 3) != 0)
    return NNCC_ERR_COMM;
  *loss = sums[0];
  *not_finite = sums[2] > 0.0f;
  return sums[1] > 0.0f ? NNCC_ERR_COMM : NNCC_OK;
}

/* Starts the sum of bucket b. The last bucket completes when the backward
   pass has little or nothing left to overlap it with: it is summed at once
   (MPI's blocking allreduce takes half the time of a non-blocking one
   waited on: 0.33 against 0.77 ms for 2.6 MiB on two processes here). */
static void start_bucket(struct nncc_comm *c, int32_t b) {
  float *data = c->bucket_data[b];
  size_t n = (size_t)c->bucket_floats[b];
  int last = c->laid_out && b == c->num_buckets - 1;
  int rc;
  if (c->engine.start && !last) {
    rc = c->engine.start(c->engine.ctx, b, data, n);
    c->bucket_state[b] = BUCKET_STARTED;
  } else {
    rc = c->engine.allreduce(c->engine.ctx, data, n);
    c->bucket_state[b] = BUCKET_SUMMED;
  }
  if (rc != 0)
    c->error = 1;
}

/* The first step: gradient `param` of `n` floats joins the open bucket, or
   opens one. */
static void lay_out(struct nncc_comm *c, int32_t param, int64_t n) {
  int32_t b = c->num_buckets - 1;
  if (b < 0 || c->bucket_state[b] != BUCKET_FILLING) {
    b = c->num_buckets++;
    c->bucket_first[b] = c->used;
  }
  c->offset[param] = c->used;
  c->bucket_of[param] = b;
  c->used += (n + SLOT_ALIGN - 1) / SLOT_ALIGN * SLOT_ALIGN;
  c->bucket_floats[b] = c->used - c->bucket_first[b];
  c->bucket_size[b] += 1;
}

/* Closes the open bucket of the first step. */
static void finish_layout(struct nncc_comm *c) {
  c->laid_out = 1;
  int32_t b = c->num_buckets - 1;
  if (b >= 0 && c->bucket_state[b] == BUCKET_FILLING)
    start_bucket(c, b);
}

void __nncc_gradient_ready(int32_t param, float *base, int64_t offset) {
  struct nncc_comm *c = stepping;
  if (!c)
    return;
  int64_t n = __nncc_params[param].numel;
  if (!c->laid_out && c->offset[param] < 0)
    lay_out(c, param, n);
  int32_t b = c->bucket_of[param];
  /* A bucket of one gradient (known once laid out) sums the gradient's own
     buffer, which no kernel touches before its update: no copies. */
  float *slot = c->laid_out && c->bucket_size[b] == 1
                    ? base + offset
                    : c->staging + c->offset[param];
  c->bucket_data[b] =
      slot == base + offset ? slot : c->staging + c->bucket_first[b];
  if (c->no_loss) /* its gradient is 0 times 0/0: it contributes nothing */
    memset(slot, 0, (size_t)n * sizeof(float));
  else if (slot != base + offset)
    memcpy(slot, base + offset, (size_t)n * sizeof(float));
  int64_t limit = b == 0 ? c->first_bucket_floats : c->bucket_floats_limit;
  if (++c->bucket_ready[b] == c->bucket_size[b] &&
      (c->laid_out || c->bucket_floats[b] >= limit))
    start_bucket(c, b);
  if (c->engine.progress)
    c->engine.progress(c->engine.ctx);
}

void __nncc_gradient_wait(int32_t param, float *base, int64_t offset) {
  struct nncc_comm *c = stepping;
  if (!c)
    return;
  if (!c->laid_out)
    finish_layout(c);
  int32_t b = c->bucket_of[param];
  if (b < 0) { /* cannot happen: every waited gradient was ready */
    c->error = 1;
    return;
  }
  if (c->bucket_state[b] == BUCKET_FILLING) /* a gradient never came */
    start_bucket(c, b);
  if (c->bucket_state[b] == BUCKET_STARTED) {
    if (c->engine.finish(c->engine.ctx, b) != 0)
      c->error = 1;
    c->bucket_state[b] = BUCKET_SUMMED;
  }
  if (c->bucket_data[b] != base + offset) /* summed in place otherwise */
    memcpy(base + offset, c->staging + c->offset[param],
           (size_t)__nncc_params[param].numel * sizeof(float));
}

/* nn.all_reduce_sum: of the forward pass, and of a gradient (which is 0,
   or 0 times 0/0, where this process has no loss positions). */
static void all_reduce_sum(float *data, int32_t n, int gradient) {
  struct nncc_comm *c = stepping;
  if (!c) /* one process, or outside a training step */
    return;
  if (gradient && c->no_loss)
    memset(data, 0, (size_t)n * sizeof(float));
  if (c->engine.allreduce(c->engine.ctx, data, (size_t)n) != 0)
    c->error = 1;
}

void __nncc_all_reduce_sum(int32_t n, float *base, int64_t offset) {
  all_reduce_sum(base + offset, n, 0);
}

void __nncc_all_reduce_sum_gradient(int32_t n, float *base, int64_t offset) {
  all_reduce_sum(base + offset, n, 1);
}

/*===--------------------------- the user's engine ----------------------===*/

static int user_allreduce(void *ctx, float *buf, size_t n) {
  struct nncc_comm *c = (struct nncc_comm *)ctx;
  return c->user_allreduce(buf, n, c->allreduce_user);
}

/* Without a broadcast function, rank 0's values are summed with zeros. */
static int user_broadcast(void *ctx, float *buf, size_t n) {
  struct nncc_comm *c = (struct nncc_comm *)ctx;
  if (c->user_broadcast)
    return c->user_broadcast(buf, n, c->broadcast_user);
  if (c->user_rank != 0)
    memset(buf, 0, n * sizeof(float));
  return c->user_allreduce(buf, n, c->allreduce_user);
}

static int user_group(void *ctx, int32_t *rank, int32_t *world) {
  struct nncc_comm *c = (struct nncc_comm *)ctx;
  *rank = c->user_rank;
  *world = c->user_world;
  return 0;
}

/*===-------------------------- the C interface -------------------------===*/

typedef int (*nncc_collective_fn)(float *buf, size_t n, void *user);

int nncc_set_allreduce(nncc_model *m, nncc_collective_fn fn, void *user) {
  if (!m)
    return NNCC_ERR_NULL;
  struct nncc_comm *c = m->comm;
  c->user_allreduce = fn;
  c->allreduce_user = user;
  if (!fn) {
    __nncc_comm_set_engine(c, NULL);
    return NNCC_OK;
  }
  nncc_engine engine;
  memset(&engine, 0, sizeof engine);
  engine.ctx = c;
  engine.allreduce = user_allreduce;
  engine.broadcast = user_broadcast;
  engine.group = user_group;
  __nncc_comm_set_engine(c, &engine);
  return NNCC_OK;
}

int nncc_set_broadcast(nncc_model *m, nncc_collective_fn fn, void *user) {
  if (!m)
    return NNCC_ERR_NULL;
  m->comm->user_broadcast = fn;
  m->comm->broadcast_user = user;
  return NNCC_OK;
}

int nncc_set_rank(nncc_model *m, int32_t rank, int32_t world_size) {
  if (!m)
    return NNCC_ERR_NULL;
  if (world_size < 1 || rank < 0 || rank >= world_size)
    return NNCC_ERR_ARGUMENT;
  if (m->comm->engine.group && m->comm->engine.group != user_group)
    return NNCC_ERR_ARGUMENT; /* MPI's communicator tells its own */
  m->comm->user_rank = rank;
  m->comm->user_world = world_size;
  m->comm->rank_set = 1;
  return NNCC_OK;
}

int nncc_set_bucket_bytes(nncc_model *m, size_t first, size_t others) {
  if (!m)
    return NNCC_ERR_NULL;
  /* The buckets are laid out by the first data-parallel step, for good. */
  if (first == 0 || others == 0 || m->comm->laid_out ||
      m->comm->num_buckets > 0)
    return NNCC_ERR_ARGUMENT;
  m->comm->first_bucket_floats = (int64_t)((first + 3) / sizeof(float));
  m->comm->bucket_floats_limit = (int64_t)((others + 3) / sizeof(float));
  return NNCC_OK;
}

/* The rank (or with `size`, the number of processes), or an error code. */
static int32_t group_member(nncc_model *m, int size) {
  if (!m)
    return NNCC_ERR_NULL;
  int32_t rank, world;
  int rc = __nncc_comm_group(m->comm, &rank, &world);
  return rc != NNCC_OK ? rc : size ? world : rank;
}

int32_t nncc_rank(nncc_model *m) { return group_member(m, 0); }
int32_t nncc_world_size(nncc_model *m) { return group_member(m, 1); }

int nncc_broadcast_parameters(nncc_model *m) {
  if (!m)
    return NNCC_ERR_NULL;
  struct nncc_comm *c = m->comm;
  if (!__nncc_comm_active(c))
    return NNCC_OK;
  if (__nncc_comm_needs_rank(c)) /* every process would be rank 0 */
    return NNCC_ERR_ARGUMENT;
  uint64_t steps = (uint64_t)m->steps;
  int rc = __nncc_comm_broadcast(c, m->params,
                                 (size_t)__nncc_param_storage_bytes);
  if (rc == NNCC_OK)
    rc = __nncc_comm_broadcast(c, m->state,
                               (size_t)__nncc_state_storage_bytes);
  if (rc == NNCC_OK)
    rc = __nncc_comm_broadcast_words(c, &steps, 1);
  if (rc != NNCC_OK)
    return rc;
  m->steps = (int64_t)steps;
  memcpy(m->next_params, m->params, (size_t)__nncc_param_storage_bytes);
  memcpy(m->next_state, m->state, (size_t)__nncc_state_storage_bytes);
  c->synced = 1;
  return NNCC_OK;
}
