/*
 * Row-parallel channel kernels over an M x C row-major matrix (NHWC activations: M = N*H*W):
 * batch normalisation in training mode fused with what follows it in the zoo's blocks (an
 * optional residual sum and ReLU), its gradient, the same per-channel affine map with fixed
 * coefficients (batch norm in evaluation mode), and column sums.
 *   forward:  mean, biased variance (one pass, double sums), rstd = 1/sqrt(var + eps),
 *             out = act(gamma * (x - mean) * rstd + beta [+ residual]), act = ReLU or identity
 *   backward: g = dout * [out > 0 when ReLU], xhat = (x - mean) * rstd (recomputed),
 *             dbeta = sum g, dgamma = sum g * xhat, dx = gamma * rstd * (g - dbeta/M - xhat * dgamma/M),
 *             and g itself (the residual's gradient) when asked
 * Channel sums are accumulated in double precision per row block, then added in block order
 * (deterministic for a given thread count).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "kdnative.h"

enum { MIN_VALUES = 1 << 15, MAX_BLOCKS = 64 };

typedef struct {
  size_t m, c;
  int blocks;
  const BnForward *f;
  const BnBackward *b;
  const float *sum_x; /* column sums operand */
  double *acc;        /* blocks x 2C partial sums */
  const float *scale; /* C: gamma * rstd */
  const float *shift; /* C: beta - mean * gamma * rstd (forward) or the two gradient means (backward) */
  const float *shift2;
  float *scratch;     /* blocks x C floats: one row of g per block (backward without dsum) */
} Rows;

static void block_range(const Rows *r, int index, size_t *r0, size_t *r1) {
  *r0 = r->m * (size_t)index / (size_t)r->blocks;
  *r1 = r->m * (size_t)(index + 1) / (size_t)r->blocks;
}

static int blocks_for(size_t m, size_t c) {
  const int t = kd_split_count(m * c, MIN_VALUES, m);
  return t > MAX_BLOCKS ? MAX_BLOCKS : t;
}

/* forward pass 1: sums of x and x^2 */
static void task_moments(void *ctx, int index) {
  const Rows *r = (const Rows *)ctx;
  size_t r0, r1;
  block_range(r, index, &r0, &r1);
  const size_t c = r->c;
  double *s = r->acc + (size_t)index * 2 * c, *q = s + c;
  for (size_t i = r0; i < r1; i++) {
    const float *x = r->f->x + i * c;
    for (size_t j = 0; j < c; j++) {
      const double v = x[j];
      s[j] += v;
      q[j] += v * v;
    }
  }
}

/* forward pass 2: out = act(x * scale + shift [+ residual]) */
static void task_normalise(void *ctx, int index) {
  const Rows *r = (const Rows *)ctx;
  size_t r0, r1;
  block_range(r, index, &r0, &r1);
  const size_t c = r->c;
  const BnForward *f = r->f;
  for (size_t i = r0; i < r1; i++) {
    const float *x = f->x + i * c;
    float *y = f->out + i * c;
    if (f->residual != NULL) {
      const float *res = f->residual + i * c;
      if (f->relu) {
        for (size_t j = 0; j < c; j++) {
          const float v = x[j] * r->scale[j] + r->shift[j] + res[j];
          y[j] = v > 0.0f ? v : 0.0f;
        }
      } else {
        for (size_t j = 0; j < c; j++) y[j] = x[j] * r->scale[j] + r->shift[j] + res[j];
      }
    } else if (f->relu) {
      for (size_t j = 0; j < c; j++) {
        const float v = x[j] * r->scale[j] + r->shift[j];
        y[j] = v > 0.0f ? v : 0.0f;
      }
    } else {
      for (size_t j = 0; j < c; j++) y[j] = x[j] * r->scale[j] + r->shift[j];
    }
  }
}

/* The incoming gradient of pre-activation row i into g (C floats): dout times the ReLU's step, as tfjs. */
static void pre_gradient(const BnBackward *b, size_t i, size_t c, float *restrict g) {
  const float *restrict dout = b->dout + i * c;
  if (b->out != NULL) {
    const float *restrict out = b->out + i * c;
    for (size_t j = 0; j < c; j++) g[j] = dout[j] * (float)(out[j] > 0.0f);
  } else {
    memcpy(g, dout, c * sizeof(float));
  }
}

/* backward pass 1: g (written to dsum when asked), sums of g and g * xhat */
static void task_grad_sums(void *ctx, int index) {
  const Rows *r = (const Rows *)ctx;
  size_t r0, r1;
  block_range(r, index, &r0, &r1);
  const size_t c = r->c;
  const BnBackward *b = r->b;
  double *s = r->acc + (size_t)index * 2 * c, *q = s + c;
  for (size_t i = r0; i < r1; i++) {
    float *g = b->dsum != NULL ? b->dsum + i * c : r->scratch + (size_t)index * c;
    pre_gradient(b, i, c, g);
    const float *x = b->x + i * c;
    for (size_t j = 0; j < c; j++) {
      const float xhat = (x[j] - b->mean[j]) * b->rstd[j];
      s[j] += g[j];
      q[j] += (double)g[j] * xhat;
    }
  }
}

/* backward pass 2: dx = scale * (g - mean_g - xhat * mean_gx) */
static void task_input_gradient(void *ctx, int index) {
  const Rows *r = (const Rows *)ctx;
  size_t r0, r1;
  block_range(r, index, &r0, &r1);
  const size_t c = r->c;
  const BnBackward *b = r->b;
  float *scratch = r->scratch + (size_t)index * c;
  for (size_t i = r0; i < r1; i++) {
    const float *g = b->dsum + i * c;
    if (b->dsum == NULL) {
      pre_gradient(b, i, c, scratch);
      g = scratch;
    }
    const float *x = b->x + i * c;
    float *dx = b->dx + i * c;
    for (size_t j = 0; j < c; j++) {
      const float xhat = (x[j] - b->mean[j]) * b->rstd[j];
      dx[j] = r->scale[j] * (g[j] - r->shift[j] - xhat * r->shift2[j]);
    }
  }
}

/* Runs `task` over the row blocks (zeroing their partial sums first, when there are any) and adds the partial sums (when `totals`) in block order. */
static void run_blocks(Rows *r, kd_task task, double *totals) {
  const size_t c = r->c;
  if (r->acc != NULL) memset(r->acc, 0, (size_t)r->blocks * 2 * c * sizeof(double));
  kd_parallel(r->blocks, task, r);
  if (totals != NULL) {
    memset(totals, 0, 2 * c * sizeof(double));
    for (int i = 0; i < r->blocks; i++) {
      const double *part = r->acc + (size_t)i * 2 * c;
      for (size_t j = 0; j < 2 * c; j++) totals[j] += part[j];
    }
  }
}

/* Partial sums (blocks x 2C) followed by the totals (2C), in one allocation. */
static double *sums_buffer(const Rows *r) {
  return (double *)malloc(((size_t)r->blocks * 2 * r->c + 2 * r->c) * sizeof(double));
}

int bn_forward(const BnForward *f) {
  const size_t m = f->m, c = f->c;
  Rows r = {m, c, blocks_for(m, c), f, NULL, NULL, NULL, NULL, NULL, NULL, NULL};
  double *acc = sums_buffer(&r);
  float *coef = (float *)malloc(2 * c * sizeof(float));
  if (acc == NULL || coef == NULL) {
    free(acc);
    free(coef);
    return 0;
  }
  double *totals = acc + (size_t)r.blocks * 2 * c;
  r.acc = acc;
  run_blocks(&r, task_moments, totals);
  for (size_t j = 0; j < c; j++) {
    const double mean = totals[j] / (double)m;
    double var = totals[c + j] / (double)m - mean * mean;
    if (var < 0) var = 0;
    f->mean[j] = (float)mean;
    f->variance[j] = (float)var;
    f->rstd[j] = (float)(1.0 / sqrt(var + (double)f->eps));
    coef[j] = f->gamma[j] * f->rstd[j];
    coef[c + j] = f->beta[j] - f->mean[j] * coef[j];
  }
  r.scale = coef;
  r.shift = coef + c;
  run_blocks(&r, task_normalise, NULL);
  free(acc);
  free(coef);
  return 1;
}

int bn_backward(const BnBackward *b) {
  const size_t m = b->m, c = b->c;
  Rows r = {m, c, blocks_for(m, c), NULL, b, NULL, NULL, NULL, NULL, NULL, NULL};
  double *acc = sums_buffer(&r);
  float *coef = (float *)malloc((3 + (size_t)r.blocks) * c * sizeof(float));
  if (acc == NULL || coef == NULL) {
    free(acc);
    free(coef);
    return 0;
  }
  double *totals = acc + (size_t)r.blocks * 2 * c;
  r.acc = acc;
  r.scratch = coef + 3 * c;
  run_blocks(&r, task_grad_sums, totals);
  for (size_t j = 0; j < c; j++) {
    b->dbeta[j] = (float)totals[j];
    b->dgamma[j] = (float)totals[c + j];
    coef[j] = b->gamma[j] * b->rstd[j];
    coef[c + j] = (float)(totals[j] / (double)m);
    coef[2 * c + j] = (float)(totals[c + j] / (double)m);
  }
  r.scale = coef;
  r.shift = coef + c;
  r.shift2 = coef + 2 * c;
  run_blocks(&r, task_input_gradient, NULL);
  free(acc);
  free(coef);
  return 1;
}

int channel_affine(size_t m, size_t c, const float *x, const float *scale, const float *shift, const float *residual, int relu, float *out) {
  const BnForward f = {m, c, 0, relu, x, NULL, NULL, residual, out, NULL, NULL, NULL};
  Rows r = {m, c, blocks_for(m, c), &f, NULL, NULL, NULL, scale, shift, NULL, NULL};
  run_blocks(&r, task_normalise, NULL);
  return 1;
}

static void task_column_sums(void *ctx, int index) {
  const Rows *r = (const Rows *)ctx;
  size_t r0, r1;
  block_range(r, index, &r0, &r1);
  const size_t c = r->c;
  double *s = r->acc + (size_t)index * 2 * c;
  for (size_t i = r0; i < r1; i++) {
    const float *x = r->sum_x + i * c;
    for (size_t j = 0; j < c; j++) s[j] += x[j];
  }
}

/* Column sums of an M x C row-major matrix (a reduction over every axis but the last), in double. */
int column_sums(size_t m, size_t c, const float *x, float *out) {
  Rows r = {m, c, blocks_for(m, c), NULL, NULL, x, NULL, NULL, NULL, NULL, NULL};
  double *acc = sums_buffer(&r);
  if (acc == NULL) return 0;
  double *totals = acc + (size_t)r.blocks * 2 * c;
  r.acc = acc;
  run_blocks(&r, task_column_sums, totals);
  for (size_t j = 0; j < c; j++) out[j] = (float)totals[j];
  free(acc);
  return 1;
}
