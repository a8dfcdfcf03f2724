/*
 * The N-API entry points of kdbench's native kernels. Each takes the wasm backend's heap (an
 * ArrayBuffer) and an Int32Array of float offsets into it and shapes; it checks that every operand
 * lies inside the heap, then runs the kernel in place: nothing is copied across the JS/native
 * boundary.
 *   conv2d, conv2dBackpropInput, conv2dBackpropFilter (heap, [a, b, c, N, H, W, CI, KH, KW, CO, OH, OW, sh, sw, dh, dw, pt, pl]),
 *     a, b, c: (x, w, y), (dy, w, dx), (x, dy, dw)
 *   batchNormForward (heap, [x, gamma, beta, y, xhat, mean, variance, rstd, M, C], eps)
 *   batchNormBackward (heap, [dy, xhat, gamma, rstd, dx, dgamma, dbeta, M, C])
 *   sumRows (heap, [x, out, M, C])
 *   maxPoolGrad (heap, [x, dy, dx, N, H, W, C, OH, OW, KH, KW, sh, sw, pt, pl])
 *   setThreads (n), getThreads (), config ()
 */
#include <node_api.h>
#include <cblas.h>
#include "kdnative.h"

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
  const int ok = conv_run(&g, pass, base + v[0], base + v[1], base + v[2]);
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
  kd_set_threads(threads);
  return NULL;
}

static napi_value get_threads(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  napi_create_int32(env, kd_threads(), &result);
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
