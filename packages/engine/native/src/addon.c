/*
 * The N-API entry points of kdbench's native kernels. Each takes the wasm backend's heap (an
 * ArrayBuffer) and an Int32Array of float offsets into it and shapes; it checks that every operand
 * lies inside the heap, then runs the kernel in place: nothing is copied across the JS/native
 * boundary.
 *   conv2d, conv2dBackpropInput, conv2dBackpropFilter (heap, [a, b, c, N, H, W, CI, KH, KW, CO, OH, OW, sh, sw, dh, dw, pt, pl]),
 *     a, b, c: (x, w, y), (dy, w, dx), (x, dy, dw)
 *   depthwiseConv2d, depthwiseConv2dBackpropInput, depthwiseConv2dBackpropFilter: the same layout, filter
 *     [KH, KW, CI, 1] and CO = CI (channel multiplier 1)
 *   batchNormForward (heap, [x, gamma, beta, residual, out, mean, variance, rstd, M, C], eps, relu)
 *   batchNormBackward (heap, [dout, x, out, gamma, mean, rstd, dx, dgamma, dbeta, dsum, M, C])
 *     (-1 for an absent optional operand: residual, out (no ReLU), dsum)
 *   sumRows (heap, [x, out, M, C])
 *   channelAffine (heap, [x, scale, shift, residual, out, M, C], relu): residual -1 for none
 *   maxPoolGrad (heap, [x, dy, dx, N, H, W, C, OH, OW, KH, KW, sh, sw, pt, pl])
 *   avgPoolGrad (heap, [dy, dx, N, H, W, C, OH, OW, KH, KW, sh, sw], scale): windows that tile the input
 *   copySegments (heap, rows, [src, srcStride, dst, dstStride, width] per segment), 4-byte elements
 *   transposeLast2 (heap, [in, out, batch, r, c]): out[b, j, i] = in[b, i, j], 4-byte elements
 *   sgdMomentum (heap, [w, g, v, wOut, vOut, size] per variable, lr, momentum, weightDecay)
 *   setThreads (n), getThreads (), config ()
 */
#include <node_api.h>
#include <cblas.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "kdnative.h"

/* Which of the tensors x (input), w (filter), y (output) each operand slot holds. */
typedef enum { X, W, Y } Operand;

static napi_value throw_error(napi_env env, const char *message) {
  napi_throw_error(env, NULL, message);
  return NULL;
}

/* Reads (heap, params) and runs `kernel` on the three operands they point at. */
static napi_value run_conv(napi_env env, napi_callback_info info, Pass pass, const Operand slots[3], int depthwise) {
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
  if (depthwise && g.co != g.ci) return throw_error(env, "kdnative: a depthwise convolution has as many outputs as input channels");
  const size_t sizes[3] = {
    (size_t)g.n * g.h * g.w * g.ci, (size_t)g.kh * g.kw * g.ci * (depthwise ? 1 : g.co), (size_t)g.n * g.oh * g.ow * g.co,
  };
  const size_t floats = heap_bytes / sizeof(float);
  for (int i = 0; i < 3; i++) {
    if (v[i] < 0 || (size_t)v[i] + sizes[slots[i]] > floats) return throw_error(env, "kdnative: operand outside the heap");
  }
  float *base = (float *)heap;
  const int ok = (depthwise ? depthwise_run : conv_run)(&g, pass, base + v[0], base + v[1], base + v[2]);
  if (!ok) return throw_error(env, "kdnative: out of memory");
  return NULL;
}

static const Operand FORWARD_SLOTS[3] = {X, W, Y}, INPUT_SLOTS[3] = {Y, W, X}, FILTER_SLOTS[3] = {X, Y, W};

static napi_value conv2d(napi_env env, napi_callback_info info) {
  return run_conv(env, info, FORWARD, FORWARD_SLOTS, 0);
}

static napi_value conv2d_backprop_input(napi_env env, napi_callback_info info) {
  return run_conv(env, info, BACKPROP_INPUT, INPUT_SLOTS, 0);
}

static napi_value conv2d_backprop_filter(napi_env env, napi_callback_info info) {
  return run_conv(env, info, BACKPROP_FILTER, FILTER_SLOTS, 0);
}

static napi_value depthwise_conv2d(napi_env env, napi_callback_info info) {
  return run_conv(env, info, FORWARD, FORWARD_SLOTS, 1);
}

static napi_value depthwise_backprop_input(napi_env env, napi_callback_info info) {
  return run_conv(env, info, BACKPROP_INPUT, INPUT_SLOTS, 1);
}

static napi_value depthwise_backprop_filter(napi_env env, napi_callback_info info) {
  return run_conv(env, info, BACKPROP_FILTER, FILTER_SLOTS, 1);
}

/*
 * Reads (heap, params, extra...) for the row-wise kernels (batch norm, sums): params = [offsets..., M, C].
 * kinds[i] says what operand i is: 'F' M x C values, 'C' C values, lower case when it may be absent (-1,
 * read as NULL). `extra` receives the arguments after params (argc must be 2 + extras). Returns 0 on any
 * bad argument.
 */
static int row_args(napi_env env, napi_callback_info info, const char *kinds, size_t extras, napi_value *extra,
                    float **ops, size_t *m, size_t *c) {
  const size_t offsets = strlen(kinds);
  size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2 + extras) return 0;
  void *heap = NULL;
  size_t heap_bytes = 0;
  napi_typedarray_type type;
  size_t length = 0;
  void *data = NULL;
  if (napi_get_arraybuffer_info(env, argv[0], &heap, &heap_bytes) != napi_ok) return 0;
  if (napi_get_typedarray_info(env, argv[1], &type, &length, &data, NULL, NULL) != napi_ok || type != napi_int32_array || length != offsets + 2) return 0;
  const int *p = (const int *)data;
  if (p[offsets] < 1 || p[offsets + 1] < 1) return 0;
  *m = (size_t)p[offsets];
  *c = (size_t)p[offsets + 1];
  const size_t floats = heap_bytes / sizeof(float);
  for (size_t i = 0; i < offsets; i++) {
    const int optional = kinds[i] == 'f' || kinds[i] == 'c';
    if (optional && p[i] == -1) {
      ops[i] = NULL;
      continue;
    }
    const size_t extent = kinds[i] == 'F' || kinds[i] == 'f' ? *m * *c : *c;
    if (p[i] < 0 || (size_t)p[i] + extent > floats) return 0;
    ops[i] = (float *)heap + p[i];
  }
  for (size_t i = 0; i < extras; i++) extra[i] = argv[2 + i];
  return 1;
}

/* batchNormForward(heap, [x, gamma, beta, residual, out, mean, variance, rstd, M, C], eps, relu) */
static napi_value batch_norm_forward(napi_env env, napi_callback_info info) {
  float *o[8];
  napi_value extra[2];
  size_t m, c;
  double eps = 0;
  bool relu = false;
  if (!row_args(env, info, "FCCfFCCC", 2, extra, o, &m, &c) || napi_get_value_double(env, extra[0], &eps) != napi_ok ||
      !(eps > 0) || napi_get_value_bool(env, extra[1], &relu) != napi_ok) {
    return throw_error(env, "kdnative: batchNormForward expects (heap, Int32Array of 10 inside the heap, eps > 0, relu)");
  }
  const BnForward f = {m, c, (float)eps, relu, o[0], o[1], o[2], o[3], o[4], o[5], o[6], o[7]};
  if (!bn_forward(&f)) return throw_error(env, "kdnative: out of memory");
  return NULL;
}

/* batchNormBackward(heap, [dout, x, out, gamma, mean, rstd, dx, dgamma, dbeta, dsum, M, C]) */
static napi_value batch_norm_backward(napi_env env, napi_callback_info info) {
  float *o[10];
  size_t m, c;
  if (!row_args(env, info, "FFfCCCFCCf", 0, NULL, o, &m, &c)) {
    return throw_error(env, "kdnative: batchNormBackward expects (heap, Int32Array of 12 inside the heap)");
  }
  const BnBackward b = {m, c, o[0], o[1], o[2], o[3], o[4], o[5], o[6], o[7], o[8], o[9]};
  if (!bn_backward(&b)) return throw_error(env, "kdnative: out of memory");
  return NULL;
}

/* channelAffine(heap, [x, scale, shift, residual, out, M, C], relu) */
static napi_value channel_affine_entry(napi_env env, napi_callback_info info) {
  float *o[5];
  napi_value extra[1];
  size_t m, c;
  bool relu = false;
  if (!row_args(env, info, "FCCfF", 1, extra, o, &m, &c) || napi_get_value_bool(env, extra[0], &relu) != napi_ok) {
    return throw_error(env, "kdnative: channelAffine expects (heap, Int32Array of 7 inside the heap, relu)");
  }
  channel_affine(m, c, o[0], o[1], o[2], o[3], relu, o[4]);
  return NULL;
}

/* sumRows(heap, [x, out, M, C]) */
static napi_value sum_rows(napi_env env, napi_callback_info info) {
  float *o[2];
  size_t m, c;
  if (!row_args(env, info, "FC", 0, NULL, o, &m, &c)) return throw_error(env, "kdnative: sumRows expects (heap, Int32Array of 4 inside the heap)");
  if (!column_sums(m, c, o[0], o[1])) return throw_error(env, "kdnative: out of memory");
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

/* Reads (heap, ...) with `argc` arguments and an Int32Array at argv[index]; 0 on a bad argument. */
static int heap_and_ints(napi_env env, napi_callback_info info, size_t argc_wanted, size_t index, napi_value *argv,
                         float **heap, size_t *floats, const int **ints, size_t *length) {
  size_t argc = argc_wanted;
  void *data = NULL;
  void *buffer = NULL;
  size_t bytes = 0;
  napi_typedarray_type type;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != argc_wanted ||
      napi_get_arraybuffer_info(env, argv[0], &buffer, &bytes) != napi_ok ||
      napi_get_typedarray_info(env, argv[index], &type, length, &data, NULL, NULL) != napi_ok || type != napi_int32_array) {
    return 0;
  }
  *heap = (float *)buffer;
  *floats = bytes / sizeof(float);
  *ints = (const int *)data;
  return 1;
}

/* Whether rows of `width` elements at offset + r * stride, r < rows, lie inside [0, floats). */
static int rows_inside(long offset, long stride, long width, long rows, size_t floats) {
  if (offset < 0 || stride < 0 || width < 0 || rows < 1) return 0;
  return (size_t)(offset + (rows - 1) * stride + width) <= floats;
}

/* copySegments(heap, rows, Int32Array [src, srcStride, dst, dstStride, width] x count) */
static napi_value copy_segments_entry(napi_env env, napi_callback_info info) {
  enum { MAX_SEGMENTS = 64 };
  napi_value argv[3];
  float *heap;
  size_t floats, length;
  const int *v;
  int32_t rows = 0;
  if (!heap_and_ints(env, info, 3, 2, argv, &heap, &floats, &v, &length) || napi_get_value_int32(env, argv[1], &rows) != napi_ok ||
      rows < 1 || length == 0 || length % 5 != 0 || length / 5 > MAX_SEGMENTS) {
    return throw_error(env, "kdnative: copySegments expects (heap, rows > 0, Int32Array of 5 x 1..64 values)");
  }
  Segment segments[MAX_SEGMENTS];
  const int count = (int)(length / 5);
  for (int s = 0; s < count; s++) {
    const int *g = v + 5 * s;
    if (!rows_inside(g[0], g[1], g[4], rows, floats) || !rows_inside(g[2], g[3], g[4], rows, floats)) {
      return throw_error(env, "kdnative: copySegments: a segment lies outside the heap");
    }
    segments[s] = (Segment){(size_t)g[0], (size_t)g[1], (size_t)g[2], (size_t)g[3], (size_t)g[4]};
  }
  copy_segments(heap, (size_t)rows, segments, count);
  return NULL;
}

/* avgPoolGrad(heap, Int32Array [dy, dx, N, H, W, C, OH, OW, KH, KW, sh, sw], scale): windows that tile the input */
static napi_value avg_pool_grad_entry(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  float *heap;
  size_t floats, length;
  const int *v;
  double scale;
  if (!heap_and_ints(env, info, 3, 1, argv, &heap, &floats, &v, &length) || length != 12 || napi_get_value_double(env, argv[2], &scale) != napi_ok) {
    return throw_error(env, "kdnative: avgPoolGrad expects (heap, Int32Array of 12, scale)");
  }
  for (int i = 2; i < 12; i++) {
    if (v[i] < 1) return throw_error(env, "kdnative: avgPoolGrad shapes and strides must be positive");
  }
  if (v[10] < v[8] || v[11] < v[9] || (long)(v[6] - 1) * v[10] + v[8] > v[3] || (long)(v[7] - 1) * v[11] + v[9] > v[4]) {
    return throw_error(env, "kdnative: avgPoolGrad windows must tile the input (stride >= window, inside it)");
  }
  if (!rows_inside(v[0], 0, (long)v[2] * v[6] * v[7] * v[5], 1, floats) || !rows_inside(v[1], 0, (long)v[2] * v[3] * v[4] * v[5], 1, floats)) {
    return throw_error(env, "kdnative: avgPoolGrad: operand outside the heap");
  }
  avg_pool_grad_tiled(v, (float)scale, heap + v[0], heap + v[1]);
  return NULL;
}

/* transposeLast2(heap, Int32Array [in, out, batch, r, c]) */
static napi_value transpose_last2_entry(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  float *heap;
  size_t floats, length;
  const int *v;
  if (!heap_and_ints(env, info, 2, 1, argv, &heap, &floats, &v, &length) || length != 5 || v[2] < 1 || v[3] < 1 || v[4] < 1) {
    return throw_error(env, "kdnative: transposeLast2 expects (heap, Int32Array [in, out, batch, r, c] with positive sizes)");
  }
  const long size = (long)v[2] * v[3] * v[4];
  if (!rows_inside(v[0], 0, size, 1, floats) || !rows_inside(v[1], 0, size, 1, floats)) {
    return throw_error(env, "kdnative: transposeLast2: operand outside the heap");
  }
  transpose_last2(heap + v[0], heap + v[1], (size_t)v[2], (size_t)v[3], (size_t)v[4]);
  return NULL;
}

/* sgdMomentum(heap, Int32Array [w, g, v, wOut, vOut, size] x count, lr, momentum, weightDecay) */
static napi_value sgd_momentum_entry(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  float *heap;
  size_t floats, length;
  const int *v;
  double hyper[3];
  int ok = heap_and_ints(env, info, 5, 1, argv, &heap, &floats, &v, &length) && length > 0 && length % 6 == 0;
  for (int i = 0; ok && i < 3; i++) ok = napi_get_value_double(env, argv[2 + i], &hyper[i]) == napi_ok;
  if (!ok) return throw_error(env, "kdnative: sgdMomentum expects (heap, Int32Array of 6 x count, lr, momentum, weightDecay)");
  const int count = (int)(length / 6);
  SgdVariable *vars = (SgdVariable *)malloc((size_t)count * sizeof(SgdVariable));
  if (vars == NULL) return throw_error(env, "kdnative: out of memory");
  for (int k = 0; k < count; k++) {
    const int *p = v + 6 * k;
    int inside = p[5] >= 1;
    for (int j = 0; inside && j < 5; j++) inside = rows_inside(p[j], 0, p[5], 1, floats);
    if (!inside) {
      free(vars);
      return throw_error(env, "kdnative: sgdMomentum: an operand lies outside the heap");
    }
    vars[k] = (SgdVariable){heap + p[0], heap + p[1], heap + p[2], heap + p[3], heap + p[4], (size_t)p[5]};
  }
  sgd_momentum(vars, count, (float)hyper[0], (float)hyper[1], (float)hyper[2]);
  free(vars);
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
  export_function(env, exports, "depthwiseConv2d", depthwise_conv2d);
  export_function(env, exports, "depthwiseConv2dBackpropInput", depthwise_backprop_input);
  export_function(env, exports, "depthwiseConv2dBackpropFilter", depthwise_backprop_filter);
  export_function(env, exports, "batchNormForward", batch_norm_forward);
  export_function(env, exports, "batchNormBackward", batch_norm_backward);
  export_function(env, exports, "maxPoolGrad", max_pool_grad_entry);
  export_function(env, exports, "avgPoolGrad", avg_pool_grad_entry);
  export_function(env, exports, "sumRows", sum_rows);
  export_function(env, exports, "channelAffine", channel_affine_entry);
  export_function(env, exports, "copySegments", copy_segments_entry);
  export_function(env, exports, "transposeLast2", transpose_last2_entry);
  export_function(env, exports, "sgdMomentum", sgd_momentum_entry);
  export_function(env, exports, "setThreads", set_threads);
  export_function(env, exports, "getThreads", get_threads);
  export_function(env, exports, "config", get_config);
  return exports;
}
