/*===- nncc_threads.c - The generated library's thread pool -----------===*
 *
 * A library compiled with --threads=N runs its large kernels (the matrix
 * products, and the loop nests nn-outline-parallel-loops moved into
 * functions over ranges) on N threads: the calling thread and N - 1
 * workers of a pool that the library starts with its first model and stops
 * with its last.
 * Work is split only where the result does not depend on the split, so a
 * step computes bit for bit the same on any number of threads.
 *
 * Distinct models stay independent: a parallel loop that finds the pool
 * busy (another model training on another thread) runs on its caller's
 * thread alone. POSIX threads only (in glibc's libc.so.6 since 2.34).
 *
 *===------------------------------------------------------------------===*/

#define _POSIX_C_SOURCE 200809L

#include "nncc/Runtime/Gemm.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

/* Provided by the compiler: the --threads option. */
extern const int32_t __nncc_num_threads;

typedef void (*nncc_task_fn)(void *context, int64_t task, int32_t thread);

/* Spins before a worker sleeps, or the caller waits (a few milliseconds):
   the products of a step come in quick succession, with single-threaded
   kernels between them, and waking a sleeping thread costs tens of
   microseconds each time. */
#define SPINS 200000

static struct {
  pthread_mutex_t lifecycle; /* serializes starting and stopping */
  pthread_mutex_t lock;
  pthread_cond_t wake;
  pthread_cond_t done;
  int32_t users;      /* live models */
  atomic_int workers; /* started worker threads */
  int stop;
  pthread_t threads[NNCC_MAX_THREADS];
  atomic_int busy; /* a parallel loop is running */
  /* The current loop, published by incrementing generation. */
  atomic_uint_fast64_t generation;
  uint_fast64_t start_generation; /* the generation workers start from */
  nncc_task_fn fn;
  void *context;
  int64_t count;
  atomic_int_fast64_t next;
  atomic_int pending; /* workers still in the current loop */
} pool = {.lifecycle = PTHREAD_MUTEX_INITIALIZER,
          .lock = PTHREAD_MUTEX_INITIALIZER,
          .wake = PTHREAD_COND_INITIALIZER,
          .done = PTHREAD_COND_INITIALIZER};

/* A loop of no more tasks than threads runs task t on thread t: successive
   kernels split alike (a GEMM's rows, then the elementwise kernel on them)
   then find their part of the data in their own core's cache, where taking
   the tasks in turn sent it from core to core at random (a [16, 64, 128]
   scaling ran 12 us on one thread, 86 us on two). More tasks than threads
   are taken in turn, which balances them. */
static void run_tasks(int32_t thread) {
  if (pool.count <= atomic_load(&pool.workers) + 1) {
    if (thread < pool.count)
      pool.fn(pool.context, thread, thread);
    return;
  }
  int64_t task;
  while ((task = atomic_fetch_add(&pool.next, 1)) < pool.count)
    pool.fn(pool.context, task, thread);
}

static void *worker(void *argument) {
  int32_t thread = (int32_t)(intptr_t)argument;
  /* Not the current generation: a loop may be published before this thread
     first runs. */
  uint_fast64_t seen = pool.start_generation;
  for (;;) {
    for (int i = 0; i < SPINS && atomic_load(&pool.generation) == seen; ++i)
      __builtin_ia32_pause();
    if (atomic_load(&pool.generation) == seen) {
      pthread_mutex_lock(&pool.lock);
      while (atomic_load(&pool.generation) == seen && !pool.stop)
        pthread_cond_wait(&pool.wake, &pool.lock);
      pthread_mutex_unlock(&pool.lock);
    }
    if (atomic_load(&pool.generation) == seen) /* woken to stop */
      return NULL;
    seen = atomic_load(&pool.generation);
    run_tasks(thread);
    if (atomic_fetch_sub(&pool.pending, 1) == 1) {
      pthread_mutex_lock(&pool.lock);
      pthread_cond_signal(&pool.done);
      pthread_mutex_unlock(&pool.lock);
    }
  }
}

/* Called by nncc_create: the first model starts the workers. A worker that
   cannot be started leaves the pool smaller, not the model unusable. */
void __nncc_pool_acquire(void) {
  if (__nncc_num_threads <= 1)
    return;
  pthread_mutex_lock(&pool.lifecycle);
  pthread_mutex_lock(&pool.lock);
  if (pool.users++ == 0) {
    pool.stop = 0;
    int32_t wanted = __nncc_num_threads - 1;
    if (wanted > NNCC_MAX_THREADS)
      wanted = NNCC_MAX_THREADS;
    /* No loop runs on the pool while it has no workers, so the generation
       stays as it is until they are all started. */
    pool.start_generation = atomic_load(&pool.generation);
    int32_t started = 0;
    while (started < wanted &&
           pthread_create(&pool.threads[started], NULL, worker,
                          (void *)(intptr_t)(started + 1)) == 0)
      ++started;
    atomic_store(&pool.workers, started);
  }
  pthread_mutex_unlock(&pool.lock);
  pthread_mutex_unlock(&pool.lifecycle);
}

/* Called by nncc_destroy: the last model stops the workers. */
void __nncc_pool_release(void) {
  if (__nncc_num_threads <= 1)
    return;
  pthread_mutex_lock(&pool.lifecycle);
  pthread_mutex_lock(&pool.lock);
  int last = --pool.users == 0;
  int32_t workers = pool.workers;
  if (last) {
    pool.stop = 1;
    pthread_cond_broadcast(&pool.wake);
  }
  pthread_mutex_unlock(&pool.lock);
  if (last) {
    for (int32_t i = 0; i < workers; ++i)
      pthread_join(pool.threads[i], NULL);
    atomic_store(&pool.workers, 0);
  }
  pthread_mutex_unlock(&pool.lifecycle);
}

/* The number of threads a parallel loop may use: the thread index passed
   to a task is below it. */
int32_t __nncc_max_threads(void) {
  int32_t threads = __nncc_num_threads;
  if (threads < 1)
    return 1;
  return threads > NNCC_MAX_THREADS ? NNCC_MAX_THREADS : threads;
}

/* Runs fn(context, task, thread) for every task in [0, count), on the pool
   when it is free, and returns when all have run. */
void __nncc_parallel_for(int64_t count, nncc_task_fn fn, void *context) {
  if (count <= 0)
    return;
  if (__nncc_num_threads <= 1 || count == 1 || pool.workers == 0 ||
      atomic_exchange(&pool.busy, 1)) {
    for (int64_t task = 0; task < count; ++task)
      fn(context, task, 0);
    return;
  }
  pool.fn = fn;
  pool.context = context;
  pool.count = count;
  atomic_store(&pool.next, 0);
  atomic_store(&pool.pending, atomic_load(&pool.workers));
  pthread_mutex_lock(&pool.lock);
  atomic_fetch_add(&pool.generation, 1);
  pthread_cond_broadcast(&pool.wake);
  pthread_mutex_unlock(&pool.lock);
  run_tasks(0);
  for (int i = 0; i < SPINS && atomic_load(&pool.pending) != 0; ++i)
    __builtin_ia32_pause();
  if (atomic_load(&pool.pending) != 0) {
    pthread_mutex_lock(&pool.lock);
    while (atomic_load(&pool.pending) != 0)
      pthread_cond_wait(&pool.done, &pool.lock);
    pthread_mutex_unlock(&pool.lock);
  }
  atomic_store(&pool.busy, 0);
}

/* A loop over [0, count) that nn-outline-parallel-loops moved into
   fn(context, begin, end): one contiguous range per thread. Iterations are
   independent, so the split does not change the result. */
typedef void (*nncc_range_fn)(void *context, int64_t begin, int64_t end);

struct range_loop {
  nncc_range_fn fn;
  void *context;
  int64_t count;
  int64_t tasks;
};

static void run_range(void *context, int64_t task, int32_t thread) {
  (void)thread;
  const struct range_loop *loop = context;
  int64_t begin = loop->count * task / loop->tasks;
  int64_t end = loop->count * (task + 1) / loop->tasks;
  if (begin < end)
    loop->fn(loop->context, begin, end);
}

void __nncc_parallel_range(int64_t count, nncc_range_fn fn, void *context) {
  if (count <= 0)
    return;
  int64_t tasks = __nncc_max_threads();
  if (tasks > count)
    tasks = count;
  if (tasks <= 1) {
    fn(context, 0, count);
    return;
  }
  struct range_loop loop = {fn, context, count, tasks};
  __nncc_parallel_for(tasks, run_range, &loop);
}
