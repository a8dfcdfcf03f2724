/*
 * Pooling gradients; images are split over the pool (each image's gradient is its own).
 * Max pooling: each output's gradient goes to the first maximum of its window in row-major order
 * (the tfjs cpu kernel's choice; NaN never wins). params = [x, dy, dx, N, H, W, C, OH, OW, KH, KW,
 * sh, sw, pt, pl]. Returns 0 when out of memory.
 * Average pooling over windows that tile the input (stride at least the window, no padding): each
 * pixel of a window gets its dy times `scale`, a pixel no window covers 0. params = [dy, dx, N, H,
 * W, C, OH, OW, KH, KW, sh, sw].
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "kdnative.h"

typedef struct {
  const int *v;
  const float *x, *dy;
  float *dx;
  int shares, failed;
} Pool;

static void pool_task(void *ctx, int index) {
  Pool *p = (Pool *)ctx;
  const int *v = p->v;
  const int n = v[3], h = v[4], w = v[5], c = v[6], oh = v[7], ow = v[8], kh = v[9], kw = v[10];
  const int sh = v[11], sw = v[12], pt = v[13], pl = v[14];
  const int b0 = (int)((long)n * index / p->shares), b1 = (int)((long)n * (index + 1) / p->shares);
  const float *x = p->x, *dy = p->dy;
  float *dx = p->dx;
  float *best = (float *)malloc((size_t)c * sizeof(float));
  size_t *where = (size_t *)malloc((size_t)c * sizeof(size_t));
  if (best == NULL || where == NULL) {
    free(best);
    free(where);
    p->failed = 1;
    return;
  }
  memset(dx + (size_t)b0 * h * w * c, 0, (size_t)(b1 - b0) * h * w * c * sizeof(float));
  for (int b = b0; b < b1; b++) {
    for (int i = 0; i < oh; i++) {
      for (int j = 0; j < ow; j++) {
        for (int k = 0; k < c; k++) best[k] = -INFINITY, where[k] = (size_t)-1;
        for (int di = 0; di < kh; di++) {
          const int r = i * sh - pt + di;
          if (r < 0 || r >= h) continue;
          for (int dj = 0; dj < kw; dj++) {
            const int q = j * sw - pl + dj;
            if (q < 0 || q >= w) continue;
            const size_t at = (((size_t)b * h + r) * w + q) * c;
            for (int k = 0; k < c; k++) {
              if (x[at + k] > best[k]) best[k] = x[at + k], where[k] = at + k;
            }
          }
        }
        const float *g = dy + (((size_t)b * oh + i) * ow + j) * c;
        for (int k = 0; k < c; k++) {
          if (where[k] != (size_t)-1) dx[where[k]] += g[k];
        }
      }
    }
  }
  free(best);
  free(where);
}

int max_pool_grad(const int *v, const float *x, const float *dy, float *dx) {
  const size_t work = (size_t)v[3] * v[7] * v[8] * v[9] * v[10] * v[6];
  Pool p = {v, x, dy, dx, kd_split_count(work, 1 << 16, (size_t)v[3]), 0};
  kd_parallel(p.shares, pool_task, &p);
  return !p.failed;
}

typedef struct {
  const int *v;
  float scale;
  const float *dy;
  float *dx;
  int shares;
} AvgPool;

static void avg_pool_task(void *ctx, int index) {
  const AvgPool *p = (const AvgPool *)ctx;
  const int *v = p->v;
  const int n = v[2], h = v[3], w = v[4], c = v[5], oh = v[6], ow = v[7], kh = v[8], kw = v[9], sh = v[10], sw = v[11];
  const int b0 = (int)((long)n * index / p->shares), b1 = (int)((long)n * (index + 1) / p->shares);
  if (sh > kh || sw > kw || oh * sh < h || ow * sw < w) memset(p->dx + (size_t)b0 * h * w * c, 0, (size_t)(b1 - b0) * h * w * c * sizeof(float));
  for (int b = b0; b < b1; b++) {
    for (int i = 0; i < oh; i++) {
      for (int j = 0; j < ow; j++) {
        const float *g = p->dy + (((size_t)b * oh + i) * ow + j) * c;
        for (int di = 0; di < kh; di++) {
          for (int dj = 0; dj < kw; dj++) {
            float *d = p->dx + (((size_t)b * h + (size_t)i * sh + di) * w + (size_t)j * sw + dj) * c;
            for (int k = 0; k < c; k++) d[k] = g[k] * p->scale;
          }
        }
      }
    }
  }
}

void avg_pool_grad_tiled(const int *v, float scale, const float *dy, float *dx) {
  const size_t work = (size_t)v[2] * v[3] * v[4] * v[5];
  AvgPool p = {v, scale, dy, dx, kd_split_count(work, 1 << 16, (size_t)v[2])};
  kd_parallel(p.shares, avg_pool_task, &p);
}
