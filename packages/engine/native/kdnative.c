/*
 * kdbench native convolution kernels for the tfjs wasm backend.
 *
 * The three NHWC convolution kernels of a training step (Conv2D, Conv2DBackpropInput,
 * Conv2DBackpropFilter) written as patch matrices ("im2col") multiplied by the filter with
 * OpenBLAS's multi-threaded SGEMM. The tensors live in the wasm backend's heap: JavaScript passes
 * that heap (an ArrayBuffer) and float offsets into it, and the results are written in place, so
 * nothing is copied across the JS/native boundary.
 *
 * Geometry (TF conventions, filter [KH, KW, CI, CO]):
 *   y[n, oh, ow, co] = sum_{kh, kw, ci} x[n, oh*sh - pt + kh*dh, ow*sw - pl + kw*dw, ci] * w[kh, kw, ci, co]
 * With P the patch matrix of x (rows (n, oh, ow), columns (kh, kw, ci), zeros outside the image):
 *   y = P W,   dP = dy W^T (then scattered back onto dx),   dW = P^T dy;
 * a stride-1 input gradient is instead the forward convolution of dy with the flipped filter.
 * Images are split into contiguous ranges, one per thread (each thread runs single-threaded
 * SGEMMs; filter-gradient partials are summed at the end), and each range is processed in chunks
 * whose patch matrix stays in cache (PATCH_FLOATS).
 *
 * Every convolution entry point takes (heap: ArrayBuffer, params: Int32Array) with params =
 *   [a, b, c, N, H, W, CI, KH, KW, CO, OH, OW, sh, sw, dh, dw, pt, pl]
 * where a, b, c are float offsets of the operands: (x, w, y), (dy, w, dx) or (x, dy, dw).
 *
 * Batch normalisation in training mode, over the M = N*H*W rows of C channels (NHWC), in two
 * kernels that replace a chain of about a dozen wasm reductions and elementwise ops:
 *   forward:  mean, biased variance, rstd = 1/sqrt(var + eps), xhat = (x - mean) * rstd, y = gamma * xhat + beta
 *   backward: dbeta = sum dy, dgamma = sum dy * xhat, dx = gamma * rstd * (dy - dbeta/M - xhat * dgamma/M)
 * Channel sums are accumulated in double precision; rows are split over the same threads.
 */
#include <cblas.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <pthread.h>
#include <unistd.h>

/* Patch-matrix floats per chunk: small enough for the chunk to stay in cache between im2col and SGEMM. */
#define PATCH_FLOATS (64 * 1024)

typedef struct {
  int n, h, w, ci, kh, kw, co, oh, ow, sh, sw, dh, dw, pt, pl;
} Geometry;

/* Threads the convolutions split images over (each thread runs single-threaded SGEMMs). */
static int conv_threads = 0;

static int threads_for(const Geometry *g) {
  if (conv_threads < 1) {
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    conv_threads = cores > 0 ? (int)cores : 1;
    openblas_set_num_threads(1);
  }
  const double flops = 2.0 * g->n * g->oh * g->ow * g->kh * g->kw * g->ci * g->co;
  int t = conv_threads < g->n ? conv_threads : g->n;
  return flops < 2e6 ? 1 : t; /* tiny problems: thread start-up costs more than it saves */
}

/* Whether the patch matrix of x is x itself (1x1 filter, stride 1, no padding). */
static int is_pointwise(const Geometry *g) {
  return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->pt == 0 && g->pl == 0 &&
         g->oh == g->h && g->ow == g->w;
}

/*
 * Images per chunk: a patch matrix of about PATCH_FLOATS, but at least MIN_ROWS rows (SGEMM is
 * inefficient on fewer: deep layers have few positions per image) and at least one image.
 */
static int chunk_images(const Geometry *g) {
  enum { MIN_ROWS = 256 };
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

typedef enum { FORWARD, BACKPROP_INPUT, BACKPROP_FILTER } Pass;

/* One thread's share of a convolution pass: images [n0, n1), chunk by chunk. */
typedef struct {
  const Geometry *g;
  Pass pass;
  const float *a, *b; /* (x, w), (dy, w) or (x, dy) */
  float *out;         /* y, dx, or this thread's dw (K x CO) */
  int n0, n1;
  int failed;
} Share;

static void *run_share(void *arg) {
  Share *s = (Share *)arg;
  const Geometry *g = s->g;
  const int k = g->kh * g->kw * g->ci;
  const size_t rows_per_image = (size_t)g->oh * g->ow;
  const size_t x_per_image = (size_t)g->h * g->w * g->ci;
  const int pointwise = is_pointwise(g);
  const int chunk = chunk_images(g);
  float *p = pointwise ? NULL : (float *)malloc((size_t)chunk * rows_per_image * k * sizeof(float));
  if (!pointwise && p == NULL) {
    s->failed = 1;
    return NULL;
  }
  if (s->pass == BACKPROP_INPUT && !pointwise) {
    memset(s->out + (size_t)s->n0 * x_per_image, 0, (size_t)(s->n1 - s->n0) * x_per_image * sizeof(float));
  }
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
  return NULL;
}

/* Runs a pass over all images, split into contiguous image ranges across threads. Returns 0 on failure. */
static int run_pass(const Geometry *g, Pass pass, const float *a, const float *b, float *out) {
  enum { MAX_THREADS = 64 };
  int t = threads_for(g);
  if (t > MAX_THREADS) t = MAX_THREADS;
  const size_t filter = (size_t)g->kh * g->kw * g->ci * g->co;
  float *partials = NULL;
  if (pass == BACKPROP_FILTER && t > 1) {
    partials = (float *)malloc((size_t)(t - 1) * filter * sizeof(float));
    if (partials == NULL) t = 1;
  }
  Share shares[MAX_THREADS];
  pthread_t ids[MAX_THREADS];
  int started[MAX_THREADS] = {0};
  for (int i = 0; i < t; i++) {
    float *target = pass == BACKPROP_FILTER && i > 0 ? partials + (size_t)(i - 1) * filter : out;
    shares[i] = (Share){g, pass, a, b, target, (int)((long)g->n * i / t), (int)((long)g->n * (i + 1) / t), 0};
  }
  for (int i = 1; i < t; i++) started[i] = pthread_create(&ids[i], NULL, run_share, &shares[i]) == 0;
  for (int i = 1; i < t; i++) {
    if (!started[i]) run_share(&shares[i]);
  }
  run_share(&shares[0]);
  int ok = !shares[0].failed;
  for (int i = 1; i < t; i++) {
    if (started[i]) pthread_join(ids[i], NULL);
    ok = ok && !shares[i].failed;
  }
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
  Geometry any = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0};
  (void)threads_for(&any); /* resolves the default thread count */
  int t = d->m * d->c < MIN_VALUES ? 1 : conv_threads;
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

static int bn_forward(size_t m, size_t c, float eps, const float *x, const float *gamma, const float *beta,
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

static int bn_backward(size_t m, size_t c, const float *dy, const float *xhat, const float *gamma, const float *rstd,
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
static int column_sums(size_t m, size_t c, const float *x, float *out) {
  double *total = (double *)malloc(2 * c * sizeof(double));
  if (total == NULL) return 0;
  RowData d = {c, 0, x, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, m};
  const int ok = parallel_rows(&d, task_sums, total);
  for (size_t j = 0; ok && j < c; j++) out[j] = (float)total[j];
  free(total);
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
  const int ok = run_pass(&t, FORWARD, dy, flipped, dx);
  free(flipped);
  return ok;
}

/*
 * Max-pooling gradient: each output's gradient goes to the first maximum of its window in
 * row-major order (the tfjs cpu kernel's choice; NaN never wins). params =
 * [x, dy, dx, N, H, W, C, OH, OW, KH, KW, sh, sw, pt, pl]. Returns 0 when out of memory.
 */
static int max_pool_grad(const int *v, const float *x, const float *dy, float *dx) {
  const int n = v[3], h = v[4], w = v[5], c = v[6], oh = v[7], ow = v[8], kh = v[9], kw = v[10];
  const int sh = v[11], sw = v[12], pt = v[13], pl = v[14];
  float *best = (float *)malloc((size_t)c * sizeof(float));
  size_t *where = (size_t *)malloc((size_t)c * sizeof(size_t));
  if (best == NULL || where == NULL) {
    free(best);
    free(where);
    return 0;
  }
  memset(dx, 0, (size_t)n * h * w * c * sizeof(float));
  for (int b = 0; b < n; b++) {
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
  return 1;
}

/* ---- N-API glue (left out with -DKDNATIVE_KERNELS_ONLY, for timing the kernels in C) ---- */

#ifndef KDNATIVE_KERNELS_ONLY
#include <node_api.h>

/* Which of the tensors x (input), w (filter), y (output) each operand slot holds. */
typedef enum { X, W, Y } Operand;

static napi_value throw_error(napi_env env, const char *message) {
  napi_throw_error(env, NULL, message);
  return NULL;
}

/* Reads (heap, params) and runs `kernel` on the three operands they point at. */
static napi_value run_conv(napi_env env, napi_callback_info info, Pass pass, const Operand slots[3]) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2) return throw_error(env, "kdnative: expected (heap, params)");
  void *heap = NULL;
  size_t heap_bytes = 0;
  if (napi_get_arraybuffer_info(env, argv[0], &heap, &heap_bytes) != napi_ok) return throw_error(env, "kdnative: heap must be an ArrayBuffer");
  napi_typedarray_type type;
  size_t length = 0;
  void *data = NULL;
  if (napi_get_typedarray_info(env, argv[1], &type, &length, &data, NULL, NULL) != napi_ok || type != napi_int32_array || length != 18) {
    return throw_error(env, "kdnative: params must be an Int32Array of 18 values");
  }
  const int *v = (const int *)data;
  const Geometry g = {v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13], v[14], v[15], v[16], v[17]};
  for (int i = 3; i < 12; i++) {
    if (v[i] < 1) return throw_error(env, "kdnative: shapes must be positive");
  }
  if (g.sh < 1 || g.sw < 1 || g.dh < 1 || g.dw < 1) return throw_error(env, "kdnative: strides and dilations must be positive");
  const size_t sizes[3] = {
    (size_t)g.n * g.h * g.w * g.ci, (size_t)g.kh * g.kw * g.ci * g.co, (size_t)g.n * g.oh * g.ow * g.co,
  };
  const size_t floats = heap_bytes / sizeof(float);
  for (int i = 0; i < 3; i++) {
    if (v[i] < 0 || (size_t)v[i] + sizes[slots[i]] > floats) return throw_error(env, "kdnative: operand outside the heap");
  }
  float *base = (float *)heap;
  /* stride 1 on large maps: the flipped-filter convolution; small maps: SGEMM + col2im (wider SGEMM, cheap scatter) */
  const int flipped = pass == BACKPROP_INPUT && g.sh == 1 && g.sw == 1 && !is_pointwise(&g) && g.oh * g.ow >= 64;
  const int ok = flipped
    ? backprop_input_stride1(&g, base + v[0], base + v[1], base + v[2])
    : run_pass(&g, pass, base + v[0], base + v[1], base + v[2]);
  if (!ok) return throw_error(env, "kdnative: out of memory");
  return NULL;
}

static napi_value conv2d(napi_env env, napi_callback_info info) {
  static const Operand slots[3] = {X, W, Y};
  return run_conv(env, info, FORWARD, slots);
}

static napi_value conv2d_backprop_input(napi_env env, napi_callback_info info) {
  static const Operand slots[3] = {Y, W, X};
  return run_conv(env, info, BACKPROP_INPUT, slots);
}

static napi_value conv2d_backprop_filter(napi_env env, napi_callback_info info) {
  static const Operand slots[3] = {X, Y, W};
  return run_conv(env, info, BACKPROP_FILTER, slots);
}

/*
 * Reads (heap, params[, eps]) for the row-wise kernels (batch norm, sums): params = [offsets..., M, C], where
 * `full` marks the operands of M x C values (the others have C). Returns 0 on any bad argument.
 */
static int row_args(napi_env env, napi_callback_info info, size_t offsets, const char *full, float **base, const int **v,
                   size_t *m, size_t *c, float *eps) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) return 0;
  void *heap = NULL;
  size_t heap_bytes = 0;
  napi_typedarray_type type;
  size_t length = 0;
  void *data = NULL;
  if (napi_get_arraybuffer_info(env, argv[0], &heap, &heap_bytes) != napi_ok) return 0;
  if (napi_get_typedarray_info(env, argv[1], &type, &length, &data, NULL, NULL) != napi_ok || type != napi_int32_array || length != offsets + 2) return 0;
  if (eps != NULL) {
    double e = 0;
    if (argc != 3 || napi_get_value_double(env, argv[2], &e) != napi_ok || !(e > 0)) return 0;
    *eps = (float)e;
  }
  const int *p = (const int *)data;
  if (p[offsets] < 1 || p[offsets + 1] < 1) return 0;
  *m = (size_t)p[offsets];
  *c = (size_t)p[offsets + 1];
  const size_t floats = heap_bytes / sizeof(float);
  for (size_t i = 0; i < offsets; i++) {
    const size_t extent = full[i] == 'F' ? *m * *c : *c;
    if (p[i] < 0 || (size_t)p[i] + extent > floats) return 0;
  }
  *base = (float *)heap;
  *v = p;
  return 1;
}

/* batchNormForward(heap, [x, gamma, beta, y, xhat, mean, variance, rstd, M, C], eps) */
static napi_value batch_norm_forward(napi_env env, napi_callback_info info) {
  float *b;
  const int *v;
  size_t m, c;
  float eps;
  if (!row_args(env, info, 8, "FCCFFCCC", &b, &v, &m, &c, &eps)) {
    return throw_error(env, "kdnative: batchNormForward expects (heap, Int32Array of 10 inside the heap, eps > 0)");
  }
  if (!bn_forward(m, c, eps, b + v[0], b + v[1], b + v[2], b + v[3], b + v[4], b + v[5], b + v[6], b + v[7])) {
    return throw_error(env, "kdnative: out of memory");
  }
  return NULL;
}

/* batchNormBackward(heap, [dy, xhat, gamma, rstd, dx, dgamma, dbeta, M, C]) */
static napi_value batch_norm_backward(napi_env env, napi_callback_info info) {
  float *b;
  const int *v;
  size_t m, c;
  if (!row_args(env, info, 7, "FFCCFCC", &b, &v, &m, &c, NULL)) {
    return throw_error(env, "kdnative: batchNormBackward expects (heap, Int32Array of 9 inside the heap)");
  }
  if (!bn_backward(m, c, b + v[0], b + v[1], b + v[2], b + v[3], b + v[4], b + v[5], b + v[6])) {
    return throw_error(env, "kdnative: out of memory");
  }
  return NULL;
}

/* sumRows(heap, [x, out, M, C]) */
static napi_value sum_rows(napi_env env, napi_callback_info info) {
  float *b;
  const int *v;
  size_t m, c;
  if (!row_args(env, info, 2, "FC", &b, &v, &m, &c, NULL)) return throw_error(env, "kdnative: sumRows expects (heap, Int32Array of 4 inside the heap)");
  if (!column_sums(m, c, b + v[0], b + v[1])) return throw_error(env, "kdnative: out of memory");
  return NULL;
}

/* maxPoolGrad(heap, [x, dy, dx, N, H, W, C, OH, OW, KH, KW, sh, sw, pt, pl]) */
static napi_value max_pool_grad_entry(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  void *heap = NULL;
  size_t heap_bytes = 0;
  napi_typedarray_type type;
  size_t length = 0;
  void *data = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2 ||
      napi_get_arraybuffer_info(env, argv[0], &heap, &heap_bytes) != napi_ok ||
      napi_get_typedarray_info(env, argv[1], &type, &length, &data, NULL, NULL) != napi_ok || type != napi_int32_array || length != 15) {
    return throw_error(env, "kdnative: maxPoolGrad expects (heap, Int32Array of 15)");
  }
  const int *v = (const int *)data;
  for (int i = 3; i < 13; i++) {
    if (v[i] < 1) return throw_error(env, "kdnative: maxPoolGrad shapes and strides must be positive");
  }
  const size_t in = (size_t)v[3] * v[4] * v[5] * v[6], out = (size_t)v[3] * v[7] * v[8] * v[6];
  const size_t sizes[3] = {in, out, in};
  const size_t floats = heap_bytes / sizeof(float);
  for (int i = 0; i < 3; i++) {
    if (v[i] < 0 || (size_t)v[i] + sizes[i] > floats) return throw_error(env, "kdnative: operand outside the heap");
  }
  float *base = (float *)heap;
  if (!max_pool_grad(v, base + v[0], base + v[1], base + v[2])) return throw_error(env, "kdnative: out of memory");
  return NULL;
}

static napi_value set_threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t threads = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1 ||
      napi_get_value_int32(env, argv[0], &threads) != napi_ok || threads < 1) {
    return throw_error(env, "kdnative: setThreads expects a positive integer");
  }
  openblas_set_num_threads(1);
  conv_threads = threads;
  return NULL;
}

static napi_value get_threads(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  Geometry any = {64, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0};
  (void)threads_for(&any); /* resolves the default */
  napi_create_int32(env, conv_threads, &result);
  return result;
}

static napi_value get_config(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  const char *config = openblas_get_config();
  napi_create_string_utf8(env, config ? config : "OpenBLAS", NAPI_AUTO_LENGTH, &result);
  return result;
}

static void export_function(napi_env env, napi_value exports, const char *name, napi_callback cb) {
  napi_value fn;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, NULL, &fn);
  napi_set_named_property(env, exports, name, fn);
}

NAPI_MODULE_INIT() {
  export_function(env, exports, "conv2d", conv2d);
  export_function(env, exports, "conv2dBackpropInput", conv2d_backprop_input);
  export_function(env, exports, "conv2dBackpropFilter", conv2d_backprop_filter);
  export_function(env, exports, "batchNormForward", batch_norm_forward);
  export_function(env, exports, "batchNormBackward", batch_norm_backward);
  export_function(env, exports, "maxPoolGrad", max_pool_grad_entry);
  export_function(env, exports, "sumRows", sum_rows);
  export_function(env, exports, "setThreads", set_threads);
  export_function(env, exports, "getThreads", get_threads);
  export_function(env, exports, "config", get_config);
  return exports;
}
#endif
