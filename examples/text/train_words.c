/* Tells which language a word is in, from its letters alone: an LSTM over
 * characters (words_lstm.onnx, exported by PyTorch) compiled by nncc,
 * trained on the word lists that Debian ships, and scored on words it never
 * saw.
 *
 *   apt-get install wamerican wngerman wfrench wspanish witalian
 *   nncc words_lstm.onnx -o libwords.so --prefix=words --batch=64 \
 *        --loss=cross-entropy --optimizer=adam --lr=0.005
 *   cc train_words.c -I. libwords.so -Wl,-rpath,. -o train_words
 *   ./train_words /usr/share/dict
 *
 * Each list is lowercased; a word is kept when it has 3 to 12 letters, all
 * of them in the alphabet below, and no other list has it (so "taxi" is
 * not in the data). From each language the same number of words is drawn
 * in the order of a hash of their letters, and every fifth word drawn is
 * held out.
 */
#include "libwords.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
  kLength = 12,     /* letters per word, the model's sequence length */
  kMinLength = 3,
  kPerLanguage = 10000,
  kEpochs = 8,
};

static const char *const kLanguages[] = {"english", "german", "french",
                                         "spanish", "italian"};
static const char *const kLists[] = {"american-english", "ngerman", "french",
                                     "spanish", "italian"};
enum { kClasses = sizeof kLanguages / sizeof kLanguages[0] };

/* The letters after a-z, as Unicode code points: ids 27 to 49 (0 pads a
   word, 1 to 26 are a to z). The model's embedding has 50 rows. */
static const uint32_t kAccented[] = {
    0xe0, 0xe1, 0xe2, 0xe4, 0xe7, 0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed, 0xee,
    0xef, 0xf1, 0xf2, 0xf3, 0xf4, 0xf6, 0xf9, 0xfa, 0xfb, 0xfc, 0xdf};

typedef struct {
  uint8_t letters[kLength]; /* ids, left-aligned, zero after the word */
  uint8_t length;
  uint8_t language;
  uint32_t hash;
} Word;

static Word *words;
static size_t word_count, word_capacity;

/* The id of code point `c` lowercased, or 0 when it is not in the alphabet. */
static int letter_id(uint32_t c) {
  if (c >= 'A' && c <= 'Z')
    c += 'a' - 'A';
  else if (c >= 0xc0 && c <= 0xde && c != 0xd7)
    c += 0x20; /* Latin-1 capitals */
  if (c >= 'a' && c <= 'z')
    return (int)(c - 'a') + 1;
  for (size_t i = 0; i < sizeof kAccented / sizeof kAccented[0]; ++i)
    if (kAccented[i] == c)
      return 27 + (int)i;
  return 0;
}

/* Decodes one UTF-8 line into letter ids; 0 when a character is not in the
   alphabet, the encoding is bad or the word is too short or too long. */
static int encode(const char *line, Word *w) {
  memset(w, 0, sizeof *w);
  const unsigned char *p = (const unsigned char *)line;
  int n = 0;
  while (*p && *p != '\n' && *p != '\r') {
    uint32_t c;
    if (*p < 0x80) {
      c = *p++;
    } else if ((*p & 0xe0) == 0xc0 && (p[1] & 0xc0) == 0x80) {
      c = (uint32_t)(*p & 0x1f) << 6 | (p[1] & 0x3f);
      p += 2;
    } else {
      return 0; /* longer sequences are outside the alphabet */
    }
    int id = letter_id(c);
    if (!id || n == kLength)
      return 0;
    w->letters[n++] = (uint8_t)id;
  }
  if (n < kMinLength)
    return 0;
  w->length = (uint8_t)n;
  uint32_t h = 2166136261u; /* FNV-1a */
  for (int i = 0; i < n; ++i)
    h = (h ^ w->letters[i]) * 16777619u;
  w->hash = h;
  return 1;
}

static int read_list(const char *dir, int language) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, kLists[language]);
  FILE *f = fopen(path, "r");
  if (!f) {
    fprintf(stderr, "cannot open %s (Debian package w%s)\n", path,
            language == 0 ? "american" : language == 1 ? "ngerman"
                                                       : kLists[language]);
    return 0;
  }
  char line[256];
  while (fgets(line, sizeof line, f)) {
    Word w;
    if (!encode(line, &w))
      continue;
    w.language = (uint8_t)language;
    if (word_count == word_capacity) {
      word_capacity = word_capacity ? 2 * word_capacity : 1 << 16;
      Word *grown = realloc(words, word_capacity * sizeof *words);
      if (!grown) {
        fclose(f);
        fprintf(stderr, "out of memory\n");
        return 0;
      }
      words = grown;
    }
    words[word_count++] = w;
  }
  fclose(f);
  return 1;
}

static int by_letters(const void *a, const void *b) {
  const Word *x = a, *y = b;
  return memcmp(x->letters, y->letters, kLength);
}

static int by_language_then_hash(const void *a, const void *b) {
  const Word *x = a, *y = b;
  if (x->language != y->language)
    return x->language - y->language;
  if (x->hash != y->hash)
    return x->hash < y->hash ? -1 : 1;
  return by_letters(a, b);
}

/* Keeps one copy of each word that only one language has. */
static void drop_shared_words(void) {
  qsort(words, word_count, sizeof *words, by_letters);
  size_t kept = 0;
  for (size_t i = 0; i < word_count;) {
    size_t j = i + 1;
    int shared = 0;
    while (j < word_count && by_letters(&words[i], &words[j]) == 0) {
      shared |= words[j].language != words[i].language;
      ++j;
    }
    if (!shared)
      words[kept++] = words[i];
    i = j;
  }
  word_count = kept;
}

/* Row `row` of a [N, 12] input: the word's ids, padded on the left so that
   the LSTM's last step reads its last letter. */
static void put_word(int64_t *chars, size_t row, const Word *w) {
  int64_t *out = chars + row * kLength;
  int pad = kLength - w->length;
  for (int i = 0; i < kLength; ++i)
    out[i] = i < pad ? 0 : w->letters[i - pad];
}

static int report(void *user, int64_t epoch, int64_t step, float loss) {
  (void)user;
  (void)step;
  if ((epoch + 1) % 2 == 0)
    printf("epoch %2lld  loss %.4f\n", (long long)epoch + 1, loss);
  return 0;
}

/* Predicts `n` words with words_forward one batch at a time (the last
   batch padded) and counts, per true language, how many come out right. */
static int evaluate(words_model *m, const int64_t *chars, const int64_t *labels,
                    size_t n, int correct[kClasses], int total[kClasses]) {
  int64_t batch = words_batch_size();
  int64_t *in = calloc((size_t)batch * kLength, sizeof *in);
  float *logits = malloc((size_t)batch * kClasses * sizeof *logits);
  if (!in || !logits) {
    free(in);
    free(logits);
    return 0;
  }
  memset(correct, 0, kClasses * sizeof *correct);
  memset(total, 0, kClasses * sizeof *total);
  int ok = 1;
  for (size_t first = 0; first < n; first += (size_t)batch) {
    size_t count = n - first < (size_t)batch ? n - first : (size_t)batch;
    memset(in, 0, (size_t)batch * kLength * sizeof *in);
    memcpy(in, chars + first * kLength, count * kLength * sizeof *in);
    const void *inputs[] = {in};
    void *outputs[] = {logits};
    int rc = words_forward(m, inputs, outputs);
    if (rc != 0) {
      fprintf(stderr, "forward failed: %s\n", words_strerror(rc));
      ok = 0;
      break;
    }
    for (size_t i = 0; i < count; ++i) {
      int best = 0;
      for (int c = 1; c < kClasses; ++c)
        if (logits[i * kClasses + c] > logits[i * kClasses + best])
          best = c;
      int truth = (int)labels[first + i];
      ++total[truth];
      correct[truth] += best == truth;
    }
  }
  free(in);
  free(logits);
  return ok;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s DICT_DIR (Debian's is /usr/share/dict)\n",
            argv[0]);
    return 1;
  }
  for (int l = 0; l < kClasses; ++l)
    if (!read_list(argv[1], l))
      return 1;
  size_t read = word_count;
  drop_shared_words();
  qsort(words, word_count, sizeof *words, by_language_then_hash);

  size_t n_train = 0, n_test = 0;
  int64_t *train_x = malloc((size_t)kClasses * kPerLanguage * kLength *
                            sizeof *train_x);
  int64_t *test_x = malloc((size_t)kClasses * kPerLanguage * kLength *
                           sizeof *test_x);
  int64_t *train_y = malloc((size_t)kClasses * kPerLanguage * sizeof *train_y);
  int64_t *test_y = malloc((size_t)kClasses * kPerLanguage * sizeof *test_y);
  if (!train_x || !test_x || !train_y || !test_y) {
    fprintf(stderr, "out of memory\n");
    return 1;
  }
  size_t i = 0;
  for (int l = 0; l < kClasses; ++l) {
    int drawn = 0;
    for (; i < word_count && words[i].language == l; ++i) {
      if (drawn == kPerLanguage)
        continue;
      if (drawn++ % 5 == 4) {
        put_word(test_x, n_test, &words[i]);
        test_y[n_test++] = l;
      } else {
        put_word(train_x, n_train, &words[i]);
        train_y[n_train++] = l;
      }
    }
    if (drawn < kPerLanguage) {
      fprintf(stderr, "%s: only %d usable words, need %d\n", kLists[l], drawn,
              kPerLanguage);
      return 1;
    }
  }
  printf("read %zu words, %zu in one language only; training on %zu, "
         "holding out %zu\n",
         read, word_count, n_train, n_test);

  words_model *m = words_create();
  if (!m) {
    fprintf(stderr, "words_create failed\n");
    return 1;
  }
  const void *inputs[] = {train_x}, *targets[] = {train_y};
  words_train_options options = {.shuffle = 1, .seed = 1, .report_every = 0};
  int rc = words_train(m, inputs, targets, (int64_t)n_train, kEpochs, &options,
                       report, NULL);
  if (rc != 0) {
    fprintf(stderr, "training failed: %s\n", words_strerror(rc));
    return 1;
  }

  int correct[kClasses], total[kClasses];
  if (!evaluate(m, train_x, train_y, n_train, correct, total))
    return 1;
  int right = 0;
  for (int l = 0; l < kClasses; ++l)
    right += correct[l];
  printf("train accuracy %.3f\n", (double)right / (double)n_train);
  if (!evaluate(m, test_x, test_y, n_test, correct, total))
    return 1;
  right = 0;
  for (int l = 0; l < kClasses; ++l) {
    printf("  %-8s %.3f of %d held-out words\n", kLanguages[l],
           (double)correct[l] / total[l], total[l]);
    right += correct[l];
  }
  printf("test accuracy %.3f\n", (double)right / (double)n_test);

  /* A few everyday words, as a user would try the model. */
  static const char *const tries[] = {"house", "haus", "maison", "casa",
                                      "giorno", "thought", "zwischen",
                                      "pourquoi", "corazón", "perché"};
  enum { kTries = sizeof tries / sizeof tries[0] };
  int64_t batch = words_batch_size();
  int64_t *in = calloc((size_t)batch * kLength, sizeof *in);
  float *logits = malloc((size_t)batch * kClasses * sizeof *logits);
  if (!in || !logits || batch < kTries)
    return 1;
  for (int t = 0; t < kTries; ++t) {
    Word w;
    if (encode(tries[t], &w))
      put_word(in, (size_t)t, &w);
  }
  const void *try_in[] = {in};
  void *try_out[] = {logits};
  if (words_forward(m, try_in, try_out) != 0)
    return 1;
  for (int t = 0; t < kTries; ++t) {
    int best = 0;
    for (int c = 1; c < kClasses; ++c)
      if (logits[t * kClasses + c] > logits[t * kClasses + best])
        best = c;
    printf("  %s: %s\n", tries[t], kLanguages[best]);
  }
  free(in);
  free(logits);
  words_destroy(m);
  free(train_x);
  free(test_x);
  free(train_y);
  free(test_y);
  free(words);
  return 0;
}
