/*
 * Max-pooling gradient: each output's gradient goes to the first maximum of its window in
 * row-major order (the tfjs cpu kernel's choice; NaN never wins). params =
 * [x, dy, dx, N, H, W, C, OH, OW, KH, KW, sh, sw, pt, pl]. Images are split over the pool (each
 * image's gradient is its own). Returns 0 when out of memory.
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

