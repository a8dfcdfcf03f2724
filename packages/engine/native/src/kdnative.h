/*
 * kdbench's native kernels for the tfjs wasm backend: shared declarations. The kernels work on
 * float arrays that live in the wasm backend's heap (see addon.c for how JavaScript passes them).
 *   conv.c    NHWC convolution, its input and filter gradients (im2col + OpenBLAS SGEMM)
 *   conv_direct.c register-tiled direct convolution for small channel counts (AVX2/FMA)
 *   depthwise.c depthwise convolution and its gradients (channel-vectorised loops)
 *   rows.c    row-parallel channel kernels: training batch norm fused with residual sum and ReLU
 *             (forward, backward), column sums
 *   copy.c    row-segment copies (Concat, SplitV) and last-two-axes transposes (channel shuffle)
 *   sgd.c     SGD with momentum and weight decay over a list of variables
 *   pool.c    max-pooling gradient
 *   threads.c the thread pool every kernel splits its work over
 *   addon.c   the N-API entry points (argument checks against the heap)
 */
#ifndef KDNATIVE_H
#define KDNATIVE_H

#include <stddef.h>

/* A 2-D convolution's geometry, TF conventions: x [N, H, W, CI], filter [KH, KW, CI, CO], y [N, OH, OW, CO]. */
typedef struct {
  int n, h, w, ci, kh, kw, co, oh, ow, sh, sw, dh, dw, pt, pl;
} Geometry;

typedef enum { FORWARD, BACKPROP_INPUT, BACKPROP_FILTER } Pass;

/* threads.c: task(ctx, i) for i in [0, count) on the pool; returns when all are done. */
typedef void (*kd_task)(void *ctx, int index);
int kd_threads(void);
void kd_set_threads(int threads);
void kd_parallel(int count, kd_task task, void *ctx);
/* How many parts to split `work` into: 1 below min_work, else a few per thread, at most `units`. */
int kd_split_count(size_t work, size_t min_work, size_t units);

/* conv.c: operands (x, w, y), (dy, w, dx) or (x, dy, dw) by pass; 0 when out of memory. */
int conv_run(const Geometry *g, Pass pass, const float *a, const float *b, float *out);
/* How many of `shares` a filter gradient of `filter` floats keeps (their partial sums cost memory). */
int filter_shares(int shares, size_t filter);
/* conv_direct.c: register-tiled forward and filter-gradient kernels (AVX2/FMA builds) for the
 * geometries direct_supported() accepts. */
int direct_supported(const Geometry *g, Pass pass);
int direct_run(const Geometry *g, Pass pass, const float *a, const float *b, float *out);
/* depthwise.c: the same for a depthwise convolution (filter [KH, KW, C], CO = CI = C). */
int depthwise_run(const Geometry *g, Pass pass, const float *a, const float *b, float *out);

/* rows.c: M rows of C channels; 0 when out of memory. */
typedef struct {
  size_t m, c;
  float eps;
  int relu;
  const float *x, *gamma, *beta, *residual; /* residual: NULL for none */
  float *out, *mean, *variance, *rstd;
} BnForward;
typedef struct {
  size_t m, c;
  const float *dout, *x, *out, *gamma, *mean, *rstd; /* out: NULL without ReLU */
  float *dx, *dgamma, *dbeta, *dsum;                        /* dsum (the residual's gradient): NULL when not wanted */
} BnBackward;
int bn_forward(const BnForward *f);
int bn_backward(const BnBackward *b);
int column_sums(size_t m, size_t c, const float *x, float *out);
/* out = act(x * scale + shift [+ residual]) per channel (residual may be NULL; act = ReLU when relu). */
int channel_affine(size_t m, size_t c, const float *x, const float *scale, const float *shift, const float *residual, int relu, float *out);

/* copy.c: 4-byte elements; offsets and strides in elements from the heap's start. */
typedef struct {
  size_t src, src_stride, dst, dst_stride, width;
} Segment;
void copy_segments(float *heap, size_t rows, const Segment *segments, int count);
void transpose_last2(const float *in, float *out, size_t batch, size_t r, size_t c);

/* sgd.c: one update of every variable (see the file for the formula). */
typedef struct {
  const float *w, *g, *v;
  float *w_out, *v_out;
  size_t size;
} SgdVariable;
void sgd_momentum(const SgdVariable *vars, int count, float lr, float momentum, float weight_decay);

/* pool.c: params [x, dy, dx, N, H, W, C, OH, OW, KH, KW, sh, sw, pt, pl]; 0 when out of memory. */
int max_pool_grad(const int *params, const float *x, const float *dy, float *dx);
/* pool.c: params [dy, dx, N, H, W, C, OH, OW, KH, KW, sh, sw], windows tiling the input. */
void avg_pool_grad_tiled(const int *params, float scale, const float *dy, float *dx);

#endif
