/* Saves the checkpoint of a freshly created model to argv[1]. */
#include MODEL_HEADER

#include <stdio.h>

int main(int argc, char **argv) {
  (void)argc;
  nncc_model *m = nncc_create();
  int rc = nncc_save(m, argv[1]);
  printf("save: %s\n", nncc_strerror(rc));
  nncc_destroy(m);
  return rc != 0;
}
