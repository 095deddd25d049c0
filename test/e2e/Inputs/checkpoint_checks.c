/* Checkpoints: training resumed from a checkpoint continues exactly as
 * uninterrupted training (Adam: parameters, moments and the step count all
 * matter); a checkpoint of another model, a truncated or a corrupted one is
 * rejected and leaves the model unchanged.
 *
 *   checkpoint_checks DIR OTHER_CHECKPOINT
 */
#include MODEL_HEADER

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      printf("FAILED: %s (line %d)\n", #cond, __LINE__);                       \
      return 1;                                                                \
    }                                                                          \
  } while (0)

static float x[2 * 3] = {0.1f, -0.4f, 0.9f, 0.3f, 0.2f, -0.7f};
static float t[2 * 2] = {0.5f, -0.25f, -0.5f, 0.75f};

static int steps(nncc_model *m, int n, float *losses) {
  const void *in[] = {x}, *tg[] = {t};
  for (int i = 0; i < n; ++i)
    if (nncc_train_step(m, in, tg, &losses[i]) != NNCC_OK)
      return 1;
  return 0;
}

static int same_params(nncc_model *a, nncc_model *b) {
  for (int32_t i = 0; i < nncc_num_params(); ++i) {
    float pa[64], pb[64];
    int64_t n = nncc_param_info(i)->numel;
    nncc_get_param(a, i, pa, n);
    nncc_get_param(b, i, pb, n);
    if (memcmp(pa, pb, (size_t)n * sizeof(float)) != 0)
      return 0;
  }
  return 1;
}

static long copy_prefix(const char *from, const char *to, long keep, long flip) {
  FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
  long n = 0;
  int c;
  while ((c = fgetc(in)) != EOF && (keep < 0 || n < keep)) {
    fputc(n == flip ? c ^ 0x10 : c, out);
    ++n;
  }
  fclose(in);
  fclose(out);
  return n;
}

int main(int argc, char **argv) {
  char path[512], bad[512];
  snprintf(path, sizeof path, "%s/model.ckpt", argv[1]);
  snprintf(bad, sizeof bad, "%s/bad.ckpt", argv[1]);
  float a[10], b[10];

  /* Uninterrupted: 10 steps. Interrupted: 5, save, load into a new model, 5. */
  nncc_model *straight = nncc_create();
  CHECK(steps(straight, 10, a) == 0);
  nncc_model *first = nncc_create();
  CHECK(steps(first, 5, b) == 0);
  CHECK(nncc_save(first, path) == NNCC_OK);
  nncc_model *resumed = nncc_create();
  CHECK(nncc_load(resumed, path) == NNCC_OK);
  CHECK(steps(resumed, 5, b + 5) == 0);
  CHECK(memcmp(a, b, sizeof a) == 0);
  CHECK(same_params(straight, resumed));
  printf("resumed training is identical: loss %.6f after 10 steps\n", b[9]);

  /* Saving again replaces the file atomically; no temporary is left. */
  CHECK(nncc_save(resumed, path) == NNCC_OK);

  /* Bad checkpoints are rejected and the model stays as it was. */
  nncc_model *probe = nncc_create();
  nncc_model *pristine = nncc_create();
  CHECK(nncc_load(probe, argv[2]) == NNCC_ERR_WRONG_MODEL);
  long size = copy_prefix(path, bad, -1, -1);
  copy_prefix(path, bad, size - 9, -1);
  CHECK(nncc_load(probe, bad) == NNCC_ERR_BAD_CHECKPOINT);
  copy_prefix(path, bad, 20, -1);
  CHECK(nncc_load(probe, bad) == NNCC_ERR_BAD_CHECKPOINT);
  copy_prefix(path, bad, 0, -1);
  CHECK(nncc_load(probe, bad) == NNCC_ERR_BAD_CHECKPOINT);
  copy_prefix(path, bad, -1, size / 2);
  CHECK(nncc_load(probe, bad) == NNCC_ERR_BAD_CHECKPOINT);
  copy_prefix(path, bad, -1, size - 1);
  CHECK(nncc_load(probe, bad) == NNCC_ERR_BAD_CHECKPOINT);
  copy_prefix(path, bad, -1, 0);
  CHECK(nncc_load(probe, bad) == NNCC_ERR_BAD_CHECKPOINT);
  FILE *f = fopen(bad, "ab");
  fputc(0, f);
  fclose(f);
  copy_prefix(path, bad, -1, -1);
  f = fopen(bad, "ab");
  fputc(0, f);
  fclose(f);
  CHECK(nncc_load(probe, bad) == NNCC_ERR_BAD_CHECKPOINT);
  CHECK(same_params(probe, pristine));
  printf("bad checkpoints rejected, model unchanged\n");

  /* Files that cannot be opened, and NULLs. */
  char missing[600];
  snprintf(missing, sizeof missing, "%s/no/such/dir/x.ckpt", argv[1]);
  CHECK(nncc_load(probe, missing) == NNCC_ERR_IO);
  CHECK(nncc_save(probe, missing) == NNCC_ERR_IO);
  CHECK(nncc_save(NULL, path) == NNCC_ERR_NULL);
  CHECK(nncc_save(probe, NULL) == NNCC_ERR_NULL);
  CHECK(nncc_load(NULL, path) == NNCC_ERR_NULL);
  CHECK(nncc_load(probe, NULL) == NNCC_ERR_NULL);
  printf("I/O errors ok\n");
  nncc_destroy(straight);
  nncc_destroy(first);
  nncc_destroy(resumed);
  nncc_destroy(probe);
  nncc_destroy(pristine);
  return 0;
}
