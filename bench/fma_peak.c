/* The CPU's peak single-precision FMA rate on one core, measured: twelve
 * independent chains of vector FMAs (enough to cover the latency of two FMA
 * units), at the widest vector width the compiler targets (-march=native).
 * Prints "peak_gflops X".
 *
 *   cc -O2 -march=native fma_peak.c -o fma_peak
 */
#include <immintrin.h>
#include <stdio.h>
#include <time.h>

#if defined(__AVX512F__)
typedef __m512 vec;
#define LANES 16
#define SET1 _mm512_set1_ps
#define FMA _mm512_fmadd_ps
#define ADD _mm512_add_ps
#define STORE _mm512_storeu_ps
#elif defined(__FMA__)
typedef __m256 vec;
#define LANES 8
#define SET1 _mm256_set1_ps
#define FMA _mm256_fmadd_ps
#define ADD _mm256_add_ps
#define STORE _mm256_storeu_ps
#else
#error "fma_peak needs FMA (compile with -march=native on an FMA machine)"
#endif

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(void) {
  const long iterations = 200000000;
  vec a = SET1(0.999999f), b = SET1(1e-7f);
  /* Twelve named accumulators, so they stay in registers. */
  vec c0 = SET1(0), c1 = SET1(1), c2 = SET1(2), c3 = SET1(3), c4 = SET1(4),
      c5 = SET1(5), c6 = SET1(6), c7 = SET1(7), c8 = SET1(8), c9 = SET1(9),
      c10 = SET1(10), c11 = SET1(11);
  double best = 0;
  for (int run = 0; run < 3; ++run) {
    double start = now();
    for (long i = 0; i < iterations; ++i) {
      c0 = FMA(c0, a, b), c1 = FMA(c1, a, b), c2 = FMA(c2, a, b);
      c3 = FMA(c3, a, b), c4 = FMA(c4, a, b), c5 = FMA(c5, a, b);
      c6 = FMA(c6, a, b), c7 = FMA(c7, a, b), c8 = FMA(c8, a, b);
      c9 = FMA(c9, a, b), c10 = FMA(c10, a, b), c11 = FMA(c11, a, b);
    }
    double seconds = now() - start;
    double gflops = 2.0 * LANES * 12 * (double)iterations / seconds / 1e9;
    best = gflops > best ? gflops : best;
  }
  vec sum = ADD(ADD(ADD(c0, c1), ADD(c2, c3)), ADD(ADD(c4, c5), ADD(c6, c7)));
  sum = ADD(sum, ADD(ADD(c8, c9), ADD(c10, c11)));
  float out[LANES];
  STORE(out, sum);
  printf("peak_gflops %.2f\nvector_lanes %d\n(checksum %g)\n", best, LANES,
         (double)out[0]);
  return 0;
}
