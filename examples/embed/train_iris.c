/* Trains a classifier of Fisher's iris with a library compiled by nncc
 * (see CMakeLists.txt): loads the data, trains with the compiled training
 * loop, saves a checkpoint, reloads it into a fresh model and predicts the
 * held-out fifth of the data.
 *
 *   train_iris [CHECKPOINT]     (default: iris.ckpt in the current directory)
 */
#include "libiris.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

enum { kRows = 150, kFeatures = 4, kClasses = 3, kEpochs = 60 };

static float features[kRows][kFeatures];
static int64_t labels[kRows];

static int load_iris(void) {
  FILE *f = fopen(IRIS_CSV, "r");
  if (!f) {
    perror(IRIS_CSV);
    return 0;
  }
  char header[256];
  if (!fgets(header, sizeof header, f)) {
    fclose(f);
    return 0;
  }
  for (int i = 0; i < kRows; ++i) {
    long label;
    if (fscanf(f, "%f,%f,%f,%f,%ld", &features[i][0], &features[i][1],
               &features[i][2], &features[i][3], &label) != 5) {
      fclose(f);
      return 0;
    }
    labels[i] = label;
  }
  fclose(f);
  return 1;
}

static int report(void *user, int64_t epoch, int64_t step, float loss) {
  (void)user;
  if ((epoch + 1) % 10 == 0)
    printf("epoch %3lld  step %4lld  loss %.4f\n", (long long)epoch + 1,
           (long long)step, loss);
  return 0;
}

int main(int argc, char **argv) {
  const char *checkpoint = argc > 1 ? argv[1] : "iris.ckpt";
  if (!load_iris())
    return 1;

  /* Every fifth sample is held out; features are standardized with the
     statistics of the training samples. */
  static float train_x[kRows][kFeatures], test_x[kRows][kFeatures];
  static int64_t train_y[kRows], test_y[kRows];
  int n_train = 0, n_test = 0;
  for (int i = 0; i < kRows; ++i) {
    if (i % 5 == 0) {
      test_y[n_test] = labels[i];
      for (int k = 0; k < kFeatures; ++k)
        test_x[n_test][k] = features[i][k];
      ++n_test;
    } else {
      train_y[n_train] = labels[i];
      for (int k = 0; k < kFeatures; ++k)
        train_x[n_train][k] = features[i][k];
      ++n_train;
    }
  }
  for (int k = 0; k < kFeatures; ++k) {
    double mean = 0, var = 0;
    for (int i = 0; i < n_train; ++i)
      mean += train_x[i][k];
    mean /= n_train;
    for (int i = 0; i < n_train; ++i)
      var += (train_x[i][k] - mean) * (train_x[i][k] - mean);
    double sd = sqrt(var / n_train);
    for (int i = 0; i < n_train; ++i)
      train_x[i][k] = (float)((train_x[i][k] - mean) / sd);
    for (int i = 0; i < n_test; ++i)
      test_x[i][k] = (float)((test_x[i][k] - mean) / sd);
  }

  /* Train with the compiled loop: shuffled minibatches of IRIS_BATCH_SIZE. */
  iris_model *model = iris_create();
  if (!model)
    return 1;
  const void *inputs[] = {train_x}, *targets[] = {train_y};
  iris_train_options options = {.shuffle = 1, .seed = 42, .report_every = 0};
  int rc = iris_train(model, inputs, targets, n_train, kEpochs, &options,
                      report, NULL);
  if (rc == IRIS_OK)
    rc = iris_save(model, checkpoint);
  iris_destroy(model);
  if (rc != IRIS_OK) {
    fprintf(stderr, "training failed: %s\n", iris_strerror(rc));
    return 1;
  }
  printf("saved %s\n", checkpoint);

  /* A fresh model from the checkpoint predicts the held-out samples, one
     batch at a time (the last batch padded). */
  iris_model *restored = iris_create();
  rc = restored ? iris_load(restored, checkpoint) : IRIS_ERR_NOMEM;
  if (rc != IRIS_OK) {
    fprintf(stderr, "loading failed: %s\n", iris_strerror(rc));
    return 1;
  }
  int correct = 0;
  for (int first = 0; first < n_test; first += IRIS_BATCH_SIZE) {
    float batch[IRIS_BATCH_SIZE][kFeatures] = {{0}};
    float logits[IRIS_BATCH_SIZE][kClasses];
    int n = n_test - first < IRIS_BATCH_SIZE ? n_test - first : IRIS_BATCH_SIZE;
    for (int i = 0; i < n; ++i)
      for (int k = 0; k < kFeatures; ++k)
        batch[i][k] = test_x[first + i][k];
    const void *in[] = {batch};
    void *out[] = {logits};
    if (iris_forward(restored, in, out) != IRIS_OK)
      return 1;
    for (int i = 0; i < n; ++i) {
      int best = 0;
      for (int c = 1; c < kClasses; ++c)
        if (logits[i][c] > logits[i][best])
          best = c;
      correct += best == test_y[first + i];
    }
  }
  iris_destroy(restored);
  printf("test accuracy %.3f (%d of %d)\n", (double)correct / n_test, correct,
         n_test);
  return 0;
}
