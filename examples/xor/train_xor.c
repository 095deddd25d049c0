/* Trains the XOR network compiled by nncc (see scripts/demo.sh).
 *
 *   train_xor            trains with nncc_train, reporting every 100 steps,
 *                        then prints the four predictions
 *   train_xor --losses   prints the loss of every step (nncc_train_step),
 *                        for the test against PyTorch's losses
 */
#include "xor.h"

#include <stdio.h>
#include <string.h>

static const float kInputs[4][2] = {{0, 0}, {0, 1}, {1, 0}, {1, 1}};
static const float kTargets[4] = {0, 1, 1, 0};
enum { kSteps = 1000 };

static int report(void *user, int64_t epoch, int64_t step, float loss) {
  (void)user;
  (void)epoch;
  printf("step %4lld  loss %.6f\n", (long long)step, loss);
  return 0;
}

int main(int argc, char **argv) {
  int print_losses = argc > 1 && strcmp(argv[1], "--losses") == 0;
  nncc_model *model = nncc_create();
  if (!model) {
    fprintf(stderr, "nncc_create failed\n");
    return 1;
  }
  const void *inputs[] = {kInputs};
  const void *targets[] = {kTargets};
  int rc = 0;
  if (print_losses) {
    for (int step = 0; step < kSteps && rc == 0; ++step) {
      float loss;
      rc = nncc_train_step(model, inputs, targets, &loss);
      printf("%.9g\n", loss);
    }
  } else {
    /* One epoch is one step: the 4 samples are one batch. */
    nncc_train_options options = {0, 0, 100};
    rc = nncc_train(model, inputs, targets, 4, kSteps, &options, report, NULL);
  }
  if (rc != 0) {
    fprintf(stderr, "training failed: %s\n", nncc_strerror(rc));
    nncc_destroy(model);
    return 1;
  }

  float predictions[4];
  void *outputs[] = {predictions};
  rc = nncc_forward(model, inputs, outputs);
  if (rc != 0) {
    fprintf(stderr, "forward failed: %s\n", nncc_strerror(rc));
    nncc_destroy(model);
    return 1;
  }
  printf("predictions");
  for (int i = 0; i < 4; ++i)
    printf(" %.9g", predictions[i]);
  printf("\n");
  for (int i = 0; i < 4; ++i)
    printf("xor(%g, %g) = %.4f -> %d\n", kInputs[i][0], kInputs[i][1],
           predictions[i], predictions[i] >= 0.5f);
  nncc_destroy(model);
  return 0;
}
