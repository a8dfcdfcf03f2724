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
 *   y = P W,   dP = dy W^T (then scattered back onto dx),   dW = P^T dy.
 * Batches are processed in chunks so that the patch buffer stays below PATCH_FLOATS floats.
 *
 * Every convolution entry point takes (heap: ArrayBuffer, params: Int32Array) with params =
 *   [a, b, c, N, H, W, CI, KH, KW, CO, OH, OW, sh, sw, dh, dw, pt, pl]
 * where a, b, c are float offsets of the operands: (x, w, y), (dy, w, dx) or (x, dy, dw).
 *
 * Batch normalisation in training mode, over the M = N*H*W rows of C channels (NHWC), in two
 * kernels that replace a chain of about a dozen wasm reductions and elementwise ops:
 *   forward:  mean, biased variance, rstd = 1/sqrt(var + eps), xhat = (x - mean) * rstd, y = gamma * xhat + beta
 *   backward: dbeta = sum dy, dgamma = sum dy * xhat, dx = gamma * rstd * (dy - dbeta/M - xhat * dgamma/M)
 * Channel sums are accumulated in double precision.
 */
#include <node_api.h>
#include <cblas.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#define PATCH_FLOATS (4 * 1024 * 1024)

typedef struct {
  int n, h, w, ci, kh, kw, co, oh, ow, sh, sw, dh, dw, pt, pl;
} Geometry;

static float *patch_buffer = NULL;
static size_t patch_capacity = 0;

static float *patches(size_t floats) {
  if (floats > patch_capacity) {
    free(patch_buffer);
    patch_buffer = (float *)malloc(floats * sizeof(float));
    patch_capacity = patch_buffer ? floats : 0;
  }
  return patch_buffer;
}

/* Whether the patch matrix of x is x itself (1x1 filter, stride 1, no padding). */
static int is_pointwise(const Geometry *g) {
  return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->pt == 0 && g->pl == 0 &&
         g->oh == g->h && g->ow == g->w;
}

/* Images per chunk so that a chunk's patch matrix fits the buffer (at least one image). */
static int chunk_images(const Geometry *g) {
  size_t per_image = (size_t)g->oh * g->ow * g->kh * g->kw * g->ci;
  size_t images = per_image == 0 ? (size_t)g->n : PATCH_FLOATS / per_image;
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

static void conv_forward(const Geometry *g, const float *x, const float *w, float *y) {
  const int k = g->kh * g->kw * g->ci;
  if (is_pointwise(g)) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g->n * g->oh * g->ow, g->co, k, 1.0f, x, k, w, g->co, 0.0f, y, g->co);
    return;
  }
  const int chunk = chunk_images(g);
  const size_t rows_per_image = (size_t)g->oh * g->ow;
  float *p = patches((size_t)chunk * rows_per_image * k);
  for (int n0 = 0; n0 < g->n; n0 += chunk) {
    const int count = g->n - n0 < chunk ? g->n - n0 : chunk;
    im2col(g, x + (size_t)n0 * g->h * g->w * g->ci, count, p);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(count * rows_per_image), g->co, k, 1.0f, p, k, w, g->co,
                0.0f, y + (size_t)n0 * rows_per_image * g->co, g->co);
  }
}

static void conv_backprop_input(const Geometry *g, const float *dy, const float *w, float *dx) {
  const int k = g->kh * g->kw * g->ci;
  if (is_pointwise(g)) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, g->n * g->oh * g->ow, k, g->co, 1.0f, dy, g->co, w, g->co, 0.0f, dx, k);
    return;
  }
  memset(dx, 0, (size_t)g->n * g->h * g->w * g->ci * sizeof(float));
  const int chunk = chunk_images(g);
  const size_t rows_per_image = (size_t)g->oh * g->ow;
  float *p = patches((size_t)chunk * rows_per_image * k);
  for (int n0 = 0; n0 < g->n; n0 += chunk) {
    const int count = g->n - n0 < chunk ? g->n - n0 : chunk;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(count * rows_per_image), k, g->co, 1.0f,
                dy + (size_t)n0 * rows_per_image * g->co, g->co, w, g->co, 0.0f, p, k);
    col2im(g, p, count, dx + (size_t)n0 * g->h * g->w * g->ci);
  }
}

static void conv_backprop_filter(const Geometry *g, const float *x, const float *dy, float *dw) {
  const int k = g->kh * g->kw * g->ci;
  if (is_pointwise(g)) {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, g->co, g->n * g->oh * g->ow, 1.0f, x, k, dy, g->co, 0.0f, dw, g->co);
    return;
  }
  const int chunk = chunk_images(g);
  const size_t rows_per_image = (size_t)g->oh * g->ow;
  float *p = patches((size_t)chunk * rows_per_image * k);
  for (int n0 = 0; n0 < g->n; n0 += chunk) {
    const int count = g->n - n0 < chunk ? g->n - n0 : chunk;
    im2col(g, x + (size_t)n0 * g->h * g->w * g->ci, count, p);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, g->co, (int)(count * rows_per_image), 1.0f, p, k,
                dy + (size_t)n0 * rows_per_image * g->co, g->co, n0 == 0 ? 0.0f : 1.0f, dw, g->co);
  }
}

static double *channel_buffer = NULL;
static size_t channel_capacity = 0;

/* Two zeroed double accumulators of `c` channels each (NULL when out of memory). */
static double *channel_sums(size_t c) {
  if (2 * c > channel_capacity) {
    free(channel_buffer);
    channel_buffer = (double *)malloc(2 * c * sizeof(double));
    channel_capacity = channel_buffer ? 2 * c : 0;
  }
  if (channel_buffer) memset(channel_buffer, 0, 2 * c * sizeof(double));
  return channel_buffer;
}

static void bn_forward(size_t m, size_t c, float eps, const float *x, const float *gamma, const float *beta,
                       float *y, float *xhat, float *mean, float *variance, float *rstd, double *sum, double *sq) {
  for (size_t r = 0; r < m; r++) {
    const float *row = x + r * c;
    for (size_t j = 0; j < c; j++) sum[j] += row[j];
  }
  for (size_t j = 0; j < c; j++) mean[j] = (float)(sum[j] / (double)m);
  for (size_t r = 0; r < m; r++) {
    const float *row = x + r * c;
    for (size_t j = 0; j < c; j++) {
      const double d = (double)row[j] - mean[j];
      sq[j] += d * d;
    }
  }
  for (size_t j = 0; j < c; j++) {
    variance[j] = (float)(sq[j] / (double)m);
    rstd[j] = (float)(1.0 / sqrt((double)variance[j] + eps));
  }
  for (size_t r = 0; r < m; r++) {
    const float *row = x + r * c;
    float *h = xhat + r * c;
    float *out = y + r * c;
    for (size_t j = 0; j < c; j++) {
      h[j] = (row[j] - mean[j]) * rstd[j];
      out[j] = h[j] * gamma[j] + beta[j];
    }
  }
}

static void bn_backward(size_t m, size_t c, const float *dy, const float *xhat, const float *gamma, const float *rstd,
                        float *dx, float *dgamma, float *dbeta, double *sum, double *dot) {
  for (size_t r = 0; r < m; r++) {
    const float *g = dy + r * c;
    const float *h = xhat + r * c;
    for (size_t j = 0; j < c; j++) {
      sum[j] += g[j];
      dot[j] += (double)g[j] * h[j];
    }
  }
  for (size_t j = 0; j < c; j++) {
    dbeta[j] = (float)sum[j];
    dgamma[j] = (float)dot[j];
  }
  for (size_t r = 0; r < m; r++) {
    const float *g = dy + r * c;
    const float *h = xhat + r * c;
    float *out = dx + r * c;
    for (size_t j = 0; j < c; j++) {
      const float mean_dy = (float)(sum[j] / (double)m);
      const float mean_dot = (float)(dot[j] / (double)m);
      out[j] = gamma[j] * rstd[j] * (g[j] - mean_dy - h[j] * mean_dot);
    }
  }
}

/* ---- N-API glue ---- */

typedef void (*ConvKernel)(const Geometry *, const float *, const float *, float *);

/* Which of the tensors x (input), w (filter), y (output) each operand slot holds. */
typedef enum { X, W, Y } Operand;

static napi_value throw_error(napi_env env, const char *message) {
  napi_throw_error(env, NULL, message);
  return NULL;
}

/* Reads (heap, params) and runs `kernel` on the three operands they point at. */
static napi_value run_conv(napi_env env, napi_callback_info info, ConvKernel kernel, const Operand slots[3]) {
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
  if (patches(1) == NULL) return throw_error(env, "kdnative: out of memory");
  float *base = (float *)heap;
  kernel(&g, base + v[0], base + v[1], base + v[2]);
  return NULL;
}

static napi_value conv2d(napi_env env, napi_callback_info info) {
  static const Operand slots[3] = {X, W, Y};
  return run_conv(env, info, conv_forward, slots);
}

static napi_value conv2d_backprop_input(napi_env env, napi_callback_info info) {
  static const Operand slots[3] = {Y, W, X};
  return run_conv(env, info, conv_backprop_input, slots);
}

static napi_value conv2d_backprop_filter(napi_env env, napi_callback_info info) {
  static const Operand slots[3] = {X, Y, W};
  return run_conv(env, info, conv_backprop_filter, slots);
}

/*
 * Reads (heap, params[, eps]) for the batch-norm kernels: params = [offsets..., M, C], where
 * `full` marks the operands of M x C values (the others have C). Returns 0 on any bad argument.
 */
static int bn_args(napi_env env, napi_callback_info info, size_t offsets, const char *full, float **base, const int **v,
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
  if (!bn_args(env, info, 8, "FCCFFCCC", &b, &v, &m, &c, &eps)) {
    return throw_error(env, "kdnative: batchNormForward expects (heap, Int32Array of 10 inside the heap, eps > 0)");
  }
  double *acc = channel_sums(c);
  if (acc == NULL) return throw_error(env, "kdnative: out of memory");
  bn_forward(m, c, eps, b + v[0], b + v[1], b + v[2], b + v[3], b + v[4], b + v[5], b + v[6], b + v[7], acc, acc + c);
  return NULL;
}

/* batchNormBackward(heap, [dy, xhat, gamma, rstd, dx, dgamma, dbeta, M, C]) */
static napi_value batch_norm_backward(napi_env env, napi_callback_info info) {
  float *b;
  const int *v;
  size_t m, c;
  if (!bn_args(env, info, 7, "FFCCFCC", &b, &v, &m, &c, NULL)) {
    return throw_error(env, "kdnative: batchNormBackward expects (heap, Int32Array of 9 inside the heap)");
  }
  double *acc = channel_sums(c);
  if (acc == NULL) return throw_error(env, "kdnative: out of memory");
  bn_backward(m, c, b + v[0], b + v[1], b + v[2], b + v[3], b + v[4], b + v[5], b + v[6], acc, acc + c);
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
  openblas_set_num_threads(threads);
  return NULL;
}

static napi_value get_threads(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  napi_create_int32(env, openblas_get_num_threads(), &result);
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
  export_function(env, exports, "setThreads", set_threads);
  export_function(env, exports, "getThreads", get_threads);
  export_function(env, exports, "config", get_config);
  return exports;
}
