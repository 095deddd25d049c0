/* The 8x8 handwritten digits for the examples that train digits_cnn.onnx
 * (compiled with --prefix=digits): reading examples/data/digits.csv.gz,
 * holding out every fifth image, and the accuracy of a model on a set. */
#ifndef DIGITS_DATA_H
#define DIGITS_DATA_H

#include "libdigits.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

enum { kRows = 1797, kPixels = 64, kClasses = 10 };

static float images[kRows][kPixels];
static int64_t labels[kRows];

/* Reads 1797 lines of 64 grey levels (0-16) and a class; scales the grey
   levels to [0, 1]. */
static int load_digits(const char *path) {
  gzFile f = gzopen(path, "rb");
  if (!f) {
    fprintf(stderr, "cannot open %s\n", path);
    return 0;
  }
  char line[1024];
  int row = 0;
  while (row < kRows && gzgets(f, line, sizeof line)) {
    char *p = line;
    for (int k = 0; k <= kPixels; ++k) {
      char *end;
      long value = strtol(p, &end, 10);
      if (end == p || value < 0 || value > 16 || (k == kPixels && value > 9)) {
        fprintf(stderr, "%s: bad value on line %d\n", path, row + 1);
        gzclose(f);
        return 0;
      }
      if (k < kPixels)
        images[row][k] = (float)value / 16.0f;
      else
        labels[row] = value;
      p = end + (*end == ',');
    }
    ++row;
  }
  gzclose(f);
  if (row != kRows) {
    fprintf(stderr, "%s: %d rows, expected %d\n", path, row, kRows);
    return 0;
  }
  return 1;
}

/* The training set and the held-out fifth (every fifth image; the model
   never trains on those). */
static float train_x[kRows][kPixels], test_x[kRows][kPixels];
static int64_t train_y[kRows], test_y[kRows];
static int n_train, n_test;

static void split_digits(void) {
  for (int i = 0; i < kRows; ++i) {
    if (i % 5 == 4) {
      memcpy(test_x[n_test], images[i], sizeof images[i]);
      test_y[n_test++] = labels[i];
    } else {
      memcpy(train_x[n_train], images[i], sizeof images[i]);
      train_y[n_train++] = labels[i];
    }
  }
}

/* The share of `n` images whose largest logit is their label, predicted
   by nncc_forward one batch at a time (the last batch padded). */
static double accuracy(digits_model *m, const float (*x)[kPixels],
                       const int64_t *y, int n) {
  int64_t batch = digits_batch_size();
  float *in = calloc((size_t)batch * kPixels, sizeof(float));
  float *logits = malloc((size_t)batch * kClasses * sizeof(float));
  int correct = 0;
  for (int first = 0; first < n; first += (int)batch) {
    int count = n - first < batch ? n - first : (int)batch;
    memset(in, 0, (size_t)batch * kPixels * sizeof(float));
    memcpy(in, x[first], (size_t)count * kPixels * sizeof(float));
    const void *inputs[] = {in};
    void *outputs[] = {logits};
    if (digits_forward(m, inputs, outputs) != 0)
      break;
    for (int i = 0; i < count; ++i) {
      int best = 0;
      for (int c = 1; c < kClasses; ++c)
        if (logits[i * kClasses + c] > logits[i * kClasses + best])
          best = c;
      correct += best == y[first + i];
    }
  }
  free(in);
  free(logits);
  return (double)correct / n;
}

#endif /* DIGITS_DATA_H */
