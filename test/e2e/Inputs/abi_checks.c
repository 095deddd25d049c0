/* Checks the generated library's interface against ABI.md, on the model
 * test/tools/Inputs/tiny.onnxtxt (x[2,3] -> y[2,2], params w[2,3], b[2]),
 * including every error code for bad arguments. Prints what it checked;
 * exits nonzero on the first failure. */
#include MODEL_HEADER

#include <math.h>
#include <stdio.h>
#include <string.h>

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      printf("FAILED: %s (line %d)\n", #cond, __LINE__);                       \
      return 1;                                                                \
    }                                                                          \
  } while (0)

int main(void) {
  /* Introspection, valid without a model. */
  CHECK(nncc_num_inputs() == 1 && nncc_num_outputs() == 1);
  CHECK(nncc_num_params() == 2);
  CHECK(nncc_batch_size() == 2 && NNCC_BATCH_SIZE == 2);
  CHECK(nncc_workspace_bytes() == NNCC_WORKSPACE_BYTES);
  const nncc_tensor_info *x = nncc_input_info(0);
  CHECK(x && strcmp(x->name, "x") == 0 && x->dtype == NNCC_FLOAT);
  CHECK(x->rank == 2 && x->shape[0] == 2 && x->shape[1] == 3 && x->numel == 6);
  const nncc_tensor_info *w = nncc_param_info(0);
  CHECK(w && strcmp(w->name, "w") == 0 && w->numel == 6);
  CHECK(strcmp(nncc_output_info(0)->name, "y") == 0);
  CHECK(nncc_input_info(1) == NULL && nncc_input_info(-1) == NULL);
  CHECK(nncc_param_info(2) == NULL && nncc_output_info(7) == NULL);
#ifdef INFERENCE
  CHECK(nncc_num_targets() == 0 && nncc_target_info(0) == NULL);
#else
  CHECK(nncc_num_targets() == 1);
  CHECK(nncc_target_info(0)->numel == 4 && nncc_target_info(1) == NULL);
#endif
  printf("introspection ok\n");

  /* NULL models and arrays are errors, never crashes. */
  float xs[6] = {1, 2, 3, 4, 5, 6}, ts[4] = {0.5f, -0.5f, 0.25f, 0}, ys[4];
  const void *in[] = {xs}, *tg[] = {ts};
  void *out[] = {ys};
  const void *null_in[] = {NULL};
  float loss = 0, buf[6];
  nncc_destroy(NULL);
  CHECK(nncc_forward(NULL, in, out) == NNCC_ERR_NULL);
  CHECK(nncc_train_step(NULL, in, tg, &loss) == NNCC_ERR_NULL);
  CHECK(nncc_train(NULL, in, tg, 4, 1, NULL, NULL, NULL) == NNCC_ERR_NULL);
  CHECK(nncc_get_param(NULL, 0, buf, 6) == NNCC_ERR_NULL);
  CHECK(nncc_set_param(NULL, 0, buf, 6) == NNCC_ERR_NULL);
  CHECK(nncc_set_learning_rate(NULL, 0.1f) == NNCC_ERR_NULL);
  CHECK(isnan(nncc_get_learning_rate(NULL)));

  nncc_model *m = nncc_create();
  CHECK(m != NULL);
  CHECK(nncc_forward(m, NULL, out) == NNCC_ERR_NULL);
  CHECK(nncc_forward(m, in, NULL) == NNCC_ERR_NULL);
  CHECK(nncc_forward(m, null_in, out) == NNCC_ERR_NULL);
  CHECK(nncc_get_param(m, 0, NULL, 6) == NNCC_ERR_NULL);
  CHECK(nncc_get_param(m, 2, buf, 6) == NNCC_ERR_INDEX);
  CHECK(nncc_get_param(m, -1, buf, 6) == NNCC_ERR_INDEX);
  CHECK(nncc_get_param(m, 0, buf, 5) == NNCC_ERR_SIZE);
  CHECK(nncc_set_param(m, 1, buf, 6) == NNCC_ERR_SIZE);
  CHECK(nncc_set_learning_rate(m, -1.0f) == NNCC_ERR_ARGUMENT);
  CHECK(nncc_set_learning_rate(m, NAN) == NNCC_ERR_ARGUMENT);
  CHECK(nncc_set_learning_rate(m, INFINITY) == NNCC_ERR_ARGUMENT);
  CHECK(strcmp(nncc_strerror(NNCC_OK), "success") == 0);
  CHECK(strcmp(nncc_strerror(12345), "unknown error code") == 0);
  printf("bad arguments ok\n");

  /* Parameters start from the initializers and round-trip. */
  CHECK(nncc_get_param(m, 0, buf, 6) == NNCC_OK);
  CHECK(fabsf(buf[0] - 0.1f) < 1e-7f && fabsf(buf[5] + 0.3f) < 1e-7f);
  float b[2] = {1.0f, 2.0f};
  CHECK(nncc_set_param(m, 1, b, 2) == NNCC_OK);
  CHECK(nncc_get_param(m, 1, buf, 2) == NNCC_OK && buf[0] == 1.0f && buf[1] == 2.0f);
  CHECK(nncc_forward(m, in, out) == NNCC_OK);
  /* y = tanh(x w^T + b), computed here in double. */
  double expect = tanh(1 * 0.1 + 2 * 0.2 + 3 * 0.3 + 1.0);
  CHECK(fabs(ys[0] - expect) < 1e-6);
  printf("parameters and forward ok\n");

#ifdef INFERENCE
  CHECK(nncc_train_step(m, in, tg, &loss) == NNCC_ERR_NO_TRAINING);
  CHECK(nncc_train(m, in, tg, 2, 1, NULL, NULL, NULL) == NNCC_ERR_NO_TRAINING);
  printf("inference-only library refuses to train\n");
#else
  CHECK(nncc_train_step(m, NULL, tg, &loss) == NNCC_ERR_NULL);
  CHECK(nncc_train_step(m, in, NULL, &loss) == NNCC_ERR_NULL);
  CHECK(nncc_train_step(m, in, null_in, &loss) == NNCC_ERR_NULL);
  CHECK(nncc_train(m, in, tg, -1, 1, NULL, NULL, NULL) == NNCC_ERR_ARGUMENT);
  CHECK(nncc_train(m, in, tg, 2, -1, NULL, NULL, NULL) == NNCC_ERR_ARGUMENT);
  nncc_train_options bad = {0, 0, -5};
  CHECK(nncc_train(m, in, tg, 2, 1, &bad, NULL, NULL) == NNCC_ERR_ARGUMENT);
  CHECK(nncc_train(m, in, tg, 0, 1, NULL, NULL, NULL) == NNCC_OK);
  /* A loss pointer is optional; lr 0 leaves the parameters as they are. */
  CHECK(nncc_set_learning_rate(m, 0.0f) == NNCC_OK && nncc_get_learning_rate(m) == 0.0f);
  CHECK(nncc_train_step(m, in, tg, NULL) == NNCC_OK);
  CHECK(nncc_get_param(m, 1, buf, 2) == NNCC_OK && buf[0] == 1.0f && buf[1] == 2.0f);
  CHECK(nncc_set_learning_rate(m, 0.5f) == NNCC_OK);
  CHECK(nncc_train_step(m, in, tg, &loss) == NNCC_OK && loss > 0);
  CHECK(nncc_get_param(m, 1, buf, 2) == NNCC_OK && buf[0] != 1.0f);
  printf("training arguments ok\n");
#endif
  nncc_destroy(m);
  return 0;
}
