/* Cross-entropy on logits at the edges of float: -inf classes (in front of
 * the row's maximum, so the running sum must survive them), logits near
 * +-1000 (exp overflows without the maximum subtracted) and a row whose
 * only finite logit is its target. Prints the loss (PyTorch: 0.5422). */
#include MODEL_HEADER

#include <math.h>
#include <stdio.h>

int main(void) {
  const float x[3][4] = {{-INFINITY, -INFINITY, 0.0f, 1.0f},
                         {1000.0f, -1000.0f, 999.0f, 0.0f},
                         {-INFINITY, 2.0f, -INFINITY, -INFINITY}};
  const int64_t target[3] = {3, 2, 1};
  const void *in[] = {x}, *tg[] = {target};
  nncc_model *m = nncc_create();
  float loss = -1;
  int rc = nncc_train_step(m, in, tg, &loss);
  printf("train_step: %s, loss %.4f\n", nncc_strerror(rc), loss);
  nncc_destroy(m);
  return 0;
}
