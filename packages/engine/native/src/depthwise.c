/*
 * Depthwise convolution (channel multiplier 1) on NHWC tensors, its input and filter gradients:
 *   y[n, oh, ow, c] = sum_{kh, kw} x[n, oh*sh - pt + kh*dh, ow*sw - pl + kw*dw, c] * w[kh, kw, c]
 * Every loop runs along the channels, which are contiguous in NHWC, so the compiler vectorises it.
 * Images are split over the pool; the filter gradient keeps one partial sum per share and adds
 * them in share order.
 */
#include <stdlib.h>
#include <string.h>
#include "kdnative.h"

enum { MAX_SHARES = 64 };

typedef struct {
  const Geometry *g;
  Pass pass;
  const float *a, *b;
  float *out;
  int shares;
  float *partials; /* BACKPROP_FILTER: (shares - 1) x KH x KW x C */
} Depthwise;

/* out[0..c) += a[0..c) * b[0..c) */
static inline void axpy_rows(size_t c, const float *restrict a, const float *restrict b, float *restrict out) {
  for (size_t j = 0; j < c; j++) out[j] += a[j] * b[j];
}

/* The output columns ow whose input column ow*sw - pl + kw*dw lies inside [0, w). */
static void column_range(const Geometry *g, int kw, int *first, int *last) {
  const int offset = kw * g->dw - g->pl;
  int lo = offset >= 0 ? 0 : (-offset + g->sw - 1) / g->sw;
  int hi = g->w - 1 - offset < 0 ? -1 : (g->w - 1 - offset) / g->sw;
  if (hi > g->ow - 1) hi = g->ow - 1;
  *first = lo;
  *last = hi;
}

static void run_images(const Depthwise *d, int n0, int n1, float *dw) {
  const Geometry *g = d->g;
  const size_t c = (size_t)g->ci;
  const size_t x_image = (size_t)g->h * g->w * c, y_image = (size_t)g->oh * g->ow * c;
  for (int n = n0; n < n1; n++) {
    for (int oh = 0; oh < g->oh; oh++) {
      for (int kh = 0; kh < g->kh; kh++) {
        const int ih = oh * g->sh - g->pt + kh * g->dh;
        if (ih < 0 || ih >= g->h) continue;
        for (int kw = 0; kw < g->kw; kw++) {
          int first, last;
          column_range(g, kw, &first, &last);
          const size_t tap = ((size_t)kh * g->kw + kw) * c;
          for (int ow = first; ow <= last; ow++) {
            const int iw = ow * g->sw - g->pl + kw * g->dw;
            const size_t xi = (size_t)n * x_image + ((size_t)ih * g->w + iw) * c;
            const size_t yi = (size_t)n * y_image + ((size_t)oh * g->ow + ow) * c;
            if (d->pass == FORWARD) axpy_rows(c, d->a + xi, d->b + tap, d->out + yi);        /* y += x * w */
            else if (d->pass == BACKPROP_INPUT) axpy_rows(c, d->a + yi, d->b + tap, d->out + xi); /* dx += dy * w */
            else axpy_rows(c, d->a + xi, d->b + yi, dw + tap);                                  /* dw += x * dy */
          }
        }
      }
    }
  }
}

static void depthwise_task(void *ctx, int index) {
  const Depthwise *d = (const Depthwise *)ctx;
  const Geometry *g = d->g;
  const int n0 = (int)((long)g->n * index / d->shares), n1 = (int)((long)g->n * (index + 1) / d->shares);
  const size_t c = (size_t)g->ci;
  if (d->pass == FORWARD) memset(d->out + (size_t)n0 * g->oh * g->ow * c, 0, (size_t)(n1 - n0) * g->oh * g->ow * c * sizeof(float));
  if (d->pass == BACKPROP_INPUT) memset(d->out + (size_t)n0 * g->h * g->w * c, 0, (size_t)(n1 - n0) * g->h * g->w * c * sizeof(float));
  float *dw = NULL;
  if (d->pass == BACKPROP_FILTER) {
    dw = index == 0 ? d->out : d->partials + (size_t)(index - 1) * g->kh * g->kw * c;
    memset(dw, 0, (size_t)g->kh * g->kw * c * sizeof(float));
  }
  run_images(d, n0, n1, dw);
}

int depthwise_run(const Geometry *g, Pass pass, const float *a, const float *b, float *out) {
  const size_t work = (size_t)g->n * g->oh * g->ow * g->kh * g->kw * g->ci;
  int shares = kd_split_count(work, 1 << 16, (size_t)g->n);
  if (shares > MAX_SHARES) shares = MAX_SHARES;
  const size_t filter = (size_t)g->kh * g->kw * g->ci;
  float *partials = NULL;
  if (pass == BACKPROP_FILTER && shares > 1) {
    partials = (float *)malloc((size_t)(shares - 1) * filter * sizeof(float));
    if (partials == NULL) return 0;
  }
  Depthwise d = {g, pass, a, b, out, shares, partials};
  kd_parallel(shares, depthwise_task, &d);
  if (partials != NULL) {
    for (int i = 1; i < shares; i++) {
      const float *part = partials + (size_t)(i - 1) * filter;
      for (size_t j = 0; j < filter; j++) out[j] += part[j];
    }
    free(partials);
  }
  return 1;
}
