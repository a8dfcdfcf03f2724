/*
 * kdbench's native convolution kernels.
 *
 * The three NHWC convolution kernels of a training step (Conv2D, Conv2DBackpropInput,
 * Conv2DBackpropFilter) written as patch matrices ("im2col") multiplied by the filter with
 * OpenBLAS's SGEMM.
 *
 * Geometry (TF conventions, filter [KH, KW, CI, CO]):
 *   y[n, oh, ow, co] = sum_{kh, kw, ci} x[n, oh*sh - pt + kh*dh, ow*sw - pl + kw*dw, ci] * w[kh, kw, ci, co]
 * With P the patch matrix of x (rows (n, oh, ow), columns (kh, kw, ci), zeros outside the image):
 *   y = P W,   dP = dy W^T (then scattered back onto dx),   dW = P^T dy;
 * a stride-1 input gradient is instead the forward convolution of dy with the flipped filter.
 * Images are split into contiguous ranges, one per pool thread (each runs single-threaded
 * SGEMMs; filter-gradient partials are summed at the end), and each range is processed in chunks
 * whose patch matrix stays in cache (PATCH_FLOATS).
 */
#include <cblas.h>
#include <stdlib.h>
#include <string.h>
#include "kdnative.h"

/* Patch-matrix floats per chunk: small enough for the chunk to stay in cache between im2col and SGEMM. */
#define PATCH_FLOATS (64 * 1024)

/* Whether the patch matrix of x is x itself (1x1 filter, stride 1, no padding). */
static int is_pointwise(const Geometry *g) {
  return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->pt == 0 && g->pl == 0 &&
         g->oh == g->h && g->ow == g->w;
}

/*
 * Images per chunk: a patch matrix of about PATCH_FLOATS, but at least MIN_ROWS rows (SGEMM is
 * inefficient on fewer: deep layers have few positions per image) and at least one image; a
 * pointwise convolution needs no patch matrix and takes all its images at once.
 */
static int chunk_images(const Geometry *g) {
  enum { MIN_ROWS = 256 };
  if (is_pointwise(g)) return g->n; /* no patch matrix: one SGEMM per share */
  const size_t rows = (size_t)g->oh * g->ow;
  const size_t per_image = rows * g->kh * g->kw * g->ci;
  size_t images = per_image == 0 ? (size_t)g->n : PATCH_FLOATS / per_image;
  const size_t for_rows = rows == 0 ? 1 : (MIN_ROWS + rows - 1) / rows;
  if (images < for_rows) images = for_rows;
  if (images < 1) images = 1;
  if (images > (size_t)g->n) images = (size_t)g->n;
  return (int)images;
}

/* Patch matrix of `count` images of x (NHWC) into p: rows (n, oh, ow), columns (kh, kw, ci). */
static void im2col(const Geometry *g, const float *x, int count, float *p) {
  const size_t ci = (size_t)g->ci;
  for (int n = 0; n < count; n++) {
    const float *image = x + (size_t)n * g->h * g->w * ci;
    for (int oh = 0; oh < g->oh; oh++) {
      for (int ow = 0; ow < g->ow; ow++) {
        for (int kh = 0; kh < g->kh; kh++) {
          const int ih = oh * g->sh - g->pt + kh * g->dh;
          for (int kw = 0; kw < g->kw; kw++) {
            const int iw = ow * g->sw - g->pl + kw * g->dw;
            if (ih < 0 || ih >= g->h || iw < 0 || iw >= g->w) memset(p, 0, ci * sizeof(float));
            else memcpy(p, image + ((size_t)ih * g->w + iw) * ci, ci * sizeof(float));
            p += ci;
          }
        }
      }
    }
  }
}

/* Adds the patch-matrix gradient dp of `count` images back onto dx (which must start zeroed). */
static void col2im(const Geometry *g, const float *dp, int count, float *dx) {
  const int ci = g->ci;
  for (int n = 0; n < count; n++) {
    float *image = dx + (size_t)n * g->h * g->w * ci;
    for (int oh = 0; oh < g->oh; oh++) {
      for (int ow = 0; ow < g->ow; ow++) {
        for (int kh = 0; kh < g->kh; kh++) {
          const int ih = oh * g->sh - g->pt + kh * g->dh;
          for (int kw = 0; kw < g->kw; kw++) {
            const int iw = ow * g->sw - g->pl + kw * g->dw;
            if (ih >= 0 && ih < g->h && iw >= 0 && iw < g->w) {
              float *target = image + ((size_t)ih * g->w + iw) * ci;
              for (int c = 0; c < ci; c++) target[c] += dp[c];
            }
            dp += ci;
          }
        }
      }
    }
  }
}


/* One share of a convolution pass: images [n0, n1), chunk by chunk. */
typedef struct {
  const Geometry *g;
  Pass pass;
  const float *a, *b; /* (x, w), (dy, w) or (x, dy) */
  float *out;         /* y, dx, or this share's dw (K x CO) */
  int n0, n1;
  int failed;
} Share;

static void run_share(Share *s) {
  const Geometry *g = s->g;
  const int k = g->kh * g->kw * g->ci;
  const size_t rows_per_image = (size_t)g->oh * g->ow;
  const size_t x_per_image = (size_t)g->h * g->w * g->ci;
  const int pointwise = is_pointwise(g);
  const int chunk = chunk_images(g);
  float *p = pointwise ? NULL : (float *)malloc((size_t)chunk * rows_per_image * k * sizeof(float));
  if (!pointwise && p == NULL) {
    s->failed = 1;
    return;
  }
  if (s->pass == BACKPROP_INPUT && !pointwise) {
    memset(s->out + (size_t)s->n0 * x_per_image, 0, (size_t)(s->n1 - s->n0) * x_per_image * sizeof(float));
  }
  if (s->pass == BACKPROP_FILTER && s->n0 == s->n1) memset(s->out, 0, (size_t)k * g->co * sizeof(float));
  for (int n0 = s->n0; n0 < s->n1; n0 += chunk) {
    const int count = s->n1 - n0 < chunk ? s->n1 - n0 : chunk;
    const int rows = (int)(count * rows_per_image);
    const float *x = s->a + (size_t)n0 * x_per_image;
    if (s->pass == FORWARD) {
      const float *patch = x;
      if (!pointwise) im2col(g, x, count, p), patch = p;
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, g->co, k, 1.0f, patch, k, s->b, g->co, 0.0f,
                  s->out + (size_t)n0 * rows_per_image * g->co, g->co);
    } else if (s->pass == BACKPROP_INPUT) {
      const float *dy = s->a + (size_t)n0 * rows_per_image * g->co;
      float *dx = s->out + (size_t)n0 * x_per_image;
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, k, g->co, 1.0f, dy, g->co, s->b, g->co, 0.0f, pointwise ? dx : p, k);
      if (!pointwise) col2im(g, p, count, dx);
    } else {
      const float *patch = x;
      if (!pointwise) im2col(g, x, count, p), patch = p;
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, g->co, rows, 1.0f, patch, k, s->b + (size_t)n0 * rows_per_image * g->co,
                  g->co, n0 == s->n0 ? 0.0f : 1.0f, s->out, g->co);
    }
  }
  free(p);
}

static void share_task(void *ctx, int index) {
  run_share((Share *)ctx + index);
}

/* Fewer shares for a filter gradient when their partial gradients would take more than PARTIAL_FLOATS, but one per thread. */
int filter_shares(int shares, size_t filter) {
  enum { PARTIAL_FLOATS = 1 << 22 };
  const size_t fit = PARTIAL_FLOATS / (filter == 0 ? 1 : filter);
  const int floor = shares < kd_threads() ? shares : kd_threads();
  if ((size_t)shares <= fit) return shares;
  return fit > (size_t)floor ? (int)fit : floor;
}

/* Runs a pass over all images, split into contiguous image ranges across the pool. Returns 0 on failure. */
static int run_pass(const Geometry *g, Pass pass, const float *a, const float *b, float *out) {
  enum { MAX_SHARES = 64 };
  const double flops = 2.0 * g->n * g->oh * g->ow * g->kh * g->kw * g->ci * g->co;
  int t = kd_split_count(flops > 4e18 ? (size_t)-1 : (size_t)flops, 2000000, (size_t)g->n);
  if (t > MAX_SHARES) t = MAX_SHARES;
  const size_t filter = (size_t)g->kh * g->kw * g->ci * g->co;
  if (pass == BACKPROP_FILTER) t = filter_shares(t, filter);
  float *partials = NULL;
  if (pass == BACKPROP_FILTER && t > 1) {
    partials = (float *)malloc((size_t)(t - 1) * filter * sizeof(float));
    if (partials == NULL) t = 1;
  }
  Share shares[MAX_SHARES];
  for (int i = 0; i < t; i++) {
    float *target = pass == BACKPROP_FILTER && i > 0 ? partials + (size_t)(i - 1) * filter : out;
    shares[i] = (Share){g, pass, a, b, target, (int)((long)g->n * i / t), (int)((long)g->n * (i + 1) / t), 0};
  }
  kd_parallel(t, share_task, shares);
  int ok = 1;
  for (int i = 0; i < t; i++) ok = ok && !shares[i].failed;
  if (partials != NULL) {
    for (int i = 1; i < t; i++) {
      const float *part = partials + (size_t)(i - 1) * filter;
      for (size_t j = 0; j < filter; j++) out[j] += part[j];
    }
    free(partials);
  }
  return ok;
}

/*
 * The input gradient of a stride-1 convolution is itself a forward convolution: of dy with the
 * filter flipped in space and with its channel axes swapped, padded by (K-1)*d - p. That runs at
 * the forward pass's speed, without the scatter of col2im. Returns 0 when out of memory.
 */
static int backprop_input_stride1(const Geometry *g, const float *dy, const float *w, float *dx) {
  const size_t taps = (size_t)g->kh * g->kw;
  float *flipped = (float *)malloc(taps * g->ci * g->co * sizeof(float));
  if (flipped == NULL) return 0;
  for (int kh = 0; kh < g->kh; kh++) {
    for (int kw = 0; kw < g->kw; kw++) {
      const float *src = w + ((size_t)kh * g->kw + kw) * g->ci * g->co;
      float *dst = flipped + ((size_t)(g->kh - 1 - kh) * g->kw + (g->kw - 1 - kw)) * g->co * g->ci;
      for (int ci = 0; ci < g->ci; ci++) {
        for (int co = 0; co < g->co; co++) dst[(size_t)co * g->ci + ci] = src[(size_t)ci * g->co + co];
      }
    }
  }
  const Geometry t = {g->n, g->oh, g->ow, g->co, g->kh, g->kw, g->ci, g->h, g->w, 1, 1, g->dh, g->dw,
                      (g->kh - 1) * g->dh - g->pt, (g->kw - 1) * g->dw - g->pl};
  const int ok = direct_supported(&t, FORWARD) ? direct_run(&t, FORWARD, dy, flipped, dx) : run_pass(&t, FORWARD, dy, flipped, dx);
  free(flipped);
  return ok;
}

int conv_run(const Geometry *g, Pass pass, const float *a, const float *b, float *out) {
  if (pass == BACKPROP_INPUT) {
    /* stride 1 on large maps (and pointwise): the forward convolution of dy with the flipped filter;
       small maps: SGEMM + col2im (wider SGEMM, cheap scatter) */
    if (g->sh == 1 && g->sw == 1 && (is_pointwise(g) || g->oh * g->ow >= 64)) return backprop_input_stride1(g, a, b, out);
    return run_pass(g, pass, a, b, out);
  }
  if (direct_supported(g, pass)) return direct_run(g, pass, a, b, out);
  return run_pass(g, pass, a, b, out);
}
