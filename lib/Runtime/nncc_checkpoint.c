/*===- nncc_checkpoint.c - nncc_save and nncc_load ---------------------===*
 *
 * The checkpoint format of docs/abi.md: atomic saves, loads that change
 * nothing unless the whole file checks out.
 *
 *===------------------------------------------------------------------===*/

#include "nncc_comm.h"

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

static int save_file(const nncc_model *m, const char *path) {
  if (!path)
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

/* Data-parallel, every process calls it: rank 0 writes, and every process
   returns whether it could (NNCC_ERR_PEER on the others when it could
   not). */
int nncc_save(const nncc_model *m, const char *path) {
  if (!m)
    return NNCC_ERR_NULL;
  if (!__nncc_comm_active(m->comm))
    return save_file(m, path);
  int32_t rank, world;
  int rc = __nncc_comm_group(m->comm, &rank, &world);
  if (rc != NNCC_OK)
    return rc;
  int mine = rank == 0 ? save_file(m, path) : NNCC_OK;
  uint64_t written = mine == NNCC_OK ? 0 : 1;
  rc = __nncc_comm_broadcast_words(m->comm, &written, 1);
  if (rc != NNCC_OK || rank == 0)
    return rank == 0 ? mine : rc;
  return written == 0 ? NNCC_OK : NNCC_ERR_PEER;
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
    __nncc_store_model(m, p, p + __nncc_param_storage_bytes);
    m->steps = (int64_t)header[3];
  }
  free(data);
  return rc;
}
