/*
 * Row-parallel channel reductions over an M x C row-major matrix (NHWC activations: M = N*H*W):
 * batch normalisation in training mode, in two kernels that replace a chain of about a dozen wasm
 * reductions and elementwise ops, and column sums:
 *   forward:  mean, biased variance, rstd = 1/sqrt(var + eps), xhat = (x - mean) * rstd, y = gamma * xhat + beta
 *   backward: dbeta = sum dy, dgamma = sum dy * xhat, dx = gamma * rstd * (dy - dbeta/M - xhat * dgamma/M)
 * Channel sums are accumulated in double precision.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "kdnative.h"

/*
 * Row-parallel passes over an M x C matrix: `task` runs on contiguous row ranges, one per thread,
 * each with its own zeroed accumulators of 2C doubles, which are then added in thread order into
 * `total` (deterministic for a given thread count). Returns 0 when out of memory.
 */
typedef struct {
  size_t c;
  float eps;
  const float *a, *b, *gamma, *beta, *rstd;
  float *out1, *out2;
  const float *mean;
  const double *sums; /* the previous pass's totals, when a pass needs them */
  size_t m;
} RowData;

typedef void (*RowTask)(const RowData *d, size_t r0, size_t r1, double *acc);

typedef struct {
  const RowData *d;
  RowTask task;
  size_t r0, r1;
  double *acc;
} RowShare;

static void *run_row_share(void *arg) {
  RowShare *s = (RowShare *)arg;
  s->task(s->d, s->r0, s->r1, s->acc);
  return NULL;
}

static int parallel_rows(const RowData *d, RowTask task, double *total) {
  enum { MAX_THREADS = 64, MIN_VALUES = 1 << 16 };
  int t = d->m * d->c < MIN_VALUES ? 1 : kd_threads();
  if (t > MAX_THREADS) t = MAX_THREADS;
  if ((size_t)t > d->m) t = (int)d->m;
  if (t < 1) t = 1;
  double *acc = (double *)calloc((size_t)t * 2 * d->c, sizeof(double));
  if (acc == NULL) return 0;
  RowShare shares[MAX_THREADS];
  pthread_t ids[MAX_THREADS];
  int started[MAX_THREADS] = {0};
  for (int i = 0; i < t; i++) shares[i] = (RowShare){d, task, d->m * i / t, d->m * (i + 1) / t, acc + (size_t)i * 2 * d->c};
  for (int i = 1; i < t; i++) started[i] = pthread_create(&ids[i], NULL, run_row_share, &shares[i]) == 0;
  for (int i = 1; i < t; i++) {
    if (!started[i]) run_row_share(&shares[i]);
  }
  run_row_share(&shares[0]);
  for (int i = 1; i < t; i++) {
    if (started[i]) pthread_join(ids[i], NULL);
  }
  if (total != NULL) {
    memset(total, 0, 2 * d->c * sizeof(double));
    for (int i = 0; i < t; i++) {
      for (size_t j = 0; j < 2 * d->c; j++) total[j] += shares[i].acc[j];
    }
  }
  free(acc);
  return 1;
}

/* acc[0..C) += column sums of a; acc[C..2C) += column sums of a * b (when b is set). */
static void task_sums(const RowData *d, size_t r0, size_t r1, double *acc) {
  const size_t c = d->c;
  for (size_t r = r0; r < r1; r++) {
    const float *x = d->a + r * c;
    for (size_t j = 0; j < c; j++) acc[j] += x[j];
    if (d->b != NULL) {
      const float *h = d->b + r * c;
      for (size_t j = 0; j < c; j++) acc[c + j] += (double)x[j] * h[j];
    }
  }
}

/* acc[C..2C) += column sums of (a - mean)^2. */
static void task_squares(const RowData *d, size_t r0, size_t r1, double *acc) {
  const size_t c = d->c;
  for (size_t r = r0; r < r1; r++) {
    const float *x = d->a + r * c;
    for (size_t j = 0; j < c; j++) {
      const double v = (double)x[j] - d->mean[j];
      acc[c + j] += v * v;
    }
  }
}

/* xhat = (a - mean) * rstd into out2, y = gamma * xhat + beta into out1. */
static void task_normalise(const RowData *d, size_t r0, size_t r1, double *acc) {
  (void)acc;
  const size_t c = d->c;
  for (size_t r = r0; r < r1; r++) {
    const float *x = d->a + r * c;
    float *h = d->out2 + r * c;
    float *y = d->out1 + r * c;
    for (size_t j = 0; j < c; j++) {
      h[j] = (x[j] - d->mean[j]) * d->rstd[j];
      y[j] = h[j] * d->gamma[j] + d->beta[j];
    }
  }
}

/* dx = gamma * rstd * (dy - sum(dy)/M - xhat * sum(dy*xhat)/M) into out1 (a = dy, b = xhat). */
static void task_input_gradient(const RowData *d, size_t r0, size_t r1, double *acc) {
  (void)acc;
  const size_t c = d->c;
  for (size_t r = r0; r < r1; r++) {
    const float *g = d->a + r * c;
    const float *h = d->b + r * c;
    float *out = d->out1 + r * c;
    for (size_t j = 0; j < c; j++) {
      const float mean_dy = (float)(d->sums[j] / (double)d->m);
      const float mean_dot = (float)(d->sums[c + j] / (double)d->m);
      out[j] = d->gamma[j] * d->rstd[j] * (g[j] - mean_dy - h[j] * mean_dot);
    }
  }
}

int bn_forward(size_t m, size_t c, float eps, const float *x, const float *gamma, const float *beta,
                      float *y, float *xhat, float *mean, float *variance, float *rstd) {
  double *total = (double *)malloc(2 * c * sizeof(double));
  if (total == NULL) return 0;
  RowData d = {c, eps, x, NULL, gamma, beta, rstd, y, xhat, mean, total, m};
  int ok = parallel_rows(&d, task_sums, total);
  for (size_t j = 0; ok && j < c; j++) mean[j] = (float)(total[j] / (double)m);
  ok = ok && parallel_rows(&d, task_squares, total);
  for (size_t j = 0; ok && j < c; j++) {
    variance[j] = (float)(total[c + j] / (double)m);
    rstd[j] = (float)(1.0 / sqrt((double)variance[j] + eps));
  }
  ok = ok && parallel_rows(&d, task_normalise, NULL);
  free(total);
  return ok;
}

int bn_backward(size_t m, size_t c, const float *dy, const float *xhat, const float *gamma, const float *rstd,
                       float *dx, float *dgamma, float *dbeta) {
  double *total = (double *)malloc(2 * c * sizeof(double));
  if (total == NULL) return 0;
  RowData d = {c, 0, dy, xhat, gamma, NULL, rstd, dx, NULL, NULL, total, m};
  int ok = parallel_rows(&d, task_sums, total);
  for (size_t j = 0; ok && j < c; j++) {
    dbeta[j] = (float)total[j];
    dgamma[j] = (float)total[c + j];
  }
  ok = ok && parallel_rows(&d, task_input_gradient, NULL);
  free(total);
  return ok;
}

/* Column sums of an M x C row-major matrix (a reduction over every axis but the last), in double. */
int column_sums(size_t m, size_t c, const float *x, float *out) {
  double *total = (double *)malloc(2 * c * sizeof(double));
  if (total == NULL) return 0;
  RowData d = {c, 0, x, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, m};
  const int ok = parallel_rows(&d, task_sums, total);
  for (size_t j = 0; ok && j < c; j++) out[j] = (float)total[j];
  free(total);
  return ok;
}

