/* Two libraries compiled with --prefix=alpha and --prefix=beta link into one
 * program; training one leaves the other untouched. */
#include "alpha.h"
#include "beta.h"

#include <stdio.h>

int main(void) {
  float x[6] = {1, 2, 3, 4, 5, 6}, t[4] = {0.5f, -0.5f, 0.25f, 0};
  const void *in[] = {x}, *tg[] = {t};
  alpha_model *a = alpha_create();
  beta_model *b = beta_create();
  float la = 0, lb = 0;
  for (int i = 0; i < 20; ++i)
    if (alpha_train_step(a, in, tg, &la) != ALPHA_OK)
      return 1;
  if (beta_train_step(b, in, tg, &lb) != BETA_OK)
    return 1;
  float wa[6], wb[6];
  alpha_get_param(a, 0, wa, 6);
  beta_get_param(b, 0, wb, 6);
  printf("alpha loss %.6f after 20 steps, beta loss %.6f after 1\n", la, lb);
  printf("independent: %s\n", wa[0] != wb[0] && la < lb ? "yes" : "no");
  alpha_destroy(a);
  beta_destroy(b);
  return 0;
}
