/*===- nncc_mpi.c - MPI as the collective engine (--distributed=mpi) ----===*
 *
 * Linked only into libraries compiled with --distributed=mpi, which then
 * need libmpi. The engine works on a duplicate of the model's communicator
 * (MPI_COMM_WORLD unless nncc_set_communicator says otherwise), made when
 * it is first needed, with errors returned rather than fatal; buckets are
 * summed with MPI_Iallreduce, and each gradient the backward pass hands
 * over lets the started sums advance (MPI_Test), since MPI progresses
 * non-blocking collectives mostly inside its own calls.
 *
 *===------------------------------------------------------------------===*/

#include "nncc_comm.h"

#include <limits.h>
#include <mpi.h>

typedef struct {
  MPI_Comm user;  /* the communicator the model was given */
  MPI_Comm comm;  /* its duplicate, MPI_COMM_NULL until first needed */
  MPI_Request *requests; /* per bucket */
} mpi_engine;

/* The duplicate communicator, made on first use (every process of the
   communicator takes the same first collective step). */
static int ready(mpi_engine *e) {
  if (e->comm != MPI_COMM_NULL)
    return 0;
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (!initialized || finalized)
    return -1;
  if (MPI_Comm_dup(e->user, &e->comm) != MPI_SUCCESS) {
    e->comm = MPI_COMM_NULL;
    return -1;
  }
  MPI_Comm_set_errhandler(e->comm, MPI_ERRORS_RETURN);
  return 0;
}

/* MPI counts are ints: a bucket (or a gradient) of more than INT_MAX
   floats, 8 GiB, fails. */
static int mpi_allreduce(void *ctx, float *buf, size_t n) {
  mpi_engine *e = (mpi_engine *)ctx;
  if (ready(e) != 0 || n > INT_MAX)
    return -1;
  return MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, MPI_FLOAT, MPI_SUM,
                       e->comm) == MPI_SUCCESS
             ? 0
             : -1;
}

static int mpi_broadcast(void *ctx, float *buf, size_t n) {
  mpi_engine *e = (mpi_engine *)ctx;
  if (ready(e) != 0 || n > INT_MAX)
    return -1;
  return MPI_Bcast(buf, (int)n, MPI_FLOAT, 0, e->comm) == MPI_SUCCESS ? 0
                                                                       : -1;
}

static int mpi_start(void *ctx, int32_t bucket, float *buf, size_t n) {
  mpi_engine *e = (mpi_engine *)ctx;
  if (ready(e) != 0 || n > INT_MAX)
    return -1;
  if (MPI_Iallreduce(MPI_IN_PLACE, buf, (int)n, MPI_FLOAT, MPI_SUM, e->comm,
                     &e->requests[bucket]) != MPI_SUCCESS) {
    e->requests[bucket] = MPI_REQUEST_NULL;
    return -1;
  }
  return 0;
}

static int mpi_finish(void *ctx, int32_t bucket) {
  mpi_engine *e = (mpi_engine *)ctx;
  if (e->requests[bucket] == MPI_REQUEST_NULL)
    return 0;
  return MPI_Wait(&e->requests[bucket], MPI_STATUS_IGNORE) == MPI_SUCCESS ? 0
                                                                          : -1;
}

static void mpi_progress(void *ctx) {
  mpi_engine *e = (mpi_engine *)ctx;
  for (int32_t b = 0; b < __nncc_num_params; ++b)
    if (e->requests[b] != MPI_REQUEST_NULL) {
      int done = 0;
      MPI_Test(&e->requests[b], &done, MPI_STATUS_IGNORE);
    }
}

static int mpi_group(void *ctx, int32_t *rank, int32_t *world) {
  mpi_engine *e = (mpi_engine *)ctx;
  int r = 0, w = 1;
  /* Rank and size need no duplicate: they are the user communicator's. */
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (!initialized || finalized ||
      MPI_Comm_rank(e->user, &r) != MPI_SUCCESS ||
      MPI_Comm_size(e->user, &w) != MPI_SUCCESS)
    return -1;
  *rank = r;
  *world = w;
  return 0;
}

static void mpi_destroy(void *ctx) {
  mpi_engine *e = (mpi_engine *)ctx;
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (e->comm != MPI_COMM_NULL && !finalized)
    MPI_Comm_free(&e->comm);
  free(e->requests);
  free(e);
}

/* An engine on `comm`, or 0 when out of memory. */
static int make_engine(nncc_engine *engine, MPI_Comm comm) {
  mpi_engine *e = (mpi_engine *)calloc(1, sizeof *e);
  if (!e)
    return 0;
  e->user = comm;
  e->comm = MPI_COMM_NULL;
  e->requests = (MPI_Request *)malloc(
      ((size_t)__nncc_num_params + 1) * sizeof(MPI_Request));
  if (!e->requests) {
    free(e);
    return 0;
  }
  for (int32_t b = 0; b <= __nncc_num_params; ++b)
    e->requests[b] = MPI_REQUEST_NULL;
  memset(engine, 0, sizeof *engine);
  engine->ctx = e;
  engine->allreduce = mpi_allreduce;
  engine->broadcast = mpi_broadcast;
  engine->start = mpi_start;
  engine->finish = mpi_finish;
  engine->progress = mpi_progress;
  engine->group = mpi_group;
  engine->destroy = mpi_destroy;
  return 1;
}

int __nncc_default_engine(nncc_engine *engine) {
  return make_engine(engine, MPI_COMM_WORLD) ? 1 : -1;
}

/* Collective: every process of `comm` calls it, after MPI_Init. The
   engine duplicates `comm` at once, so the program may free its own. */
int nncc_set_communicator(nncc_model *m, MPI_Comm comm) {
  if (!m)
    return NNCC_ERR_NULL;
  if (comm == MPI_COMM_NULL)
    return NNCC_ERR_ARGUMENT;
  nncc_engine engine;
  if (!make_engine(&engine, comm))
    return NNCC_ERR_NOMEM;
  mpi_engine *e = (mpi_engine *)engine.ctx;
  int32_t rank, world;
  if (ready(e) != 0 || mpi_group(e, &rank, &world) != 0) {
    mpi_destroy(e);
    return NNCC_ERR_COMM;
  }
  e->user = e->comm; /* rank and size from the duplicate from now on */
  __nncc_comm_set_engine(m->comm, &engine);
  return NNCC_OK;
}
