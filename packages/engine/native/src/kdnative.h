/*
 * kdbench's native kernels for the tfjs wasm backend: shared declarations. The kernels work on
 * float arrays that live in the wasm backend's heap (see addon.c for how JavaScript passes them).
 *   conv.c    NHWC convolution, its input and filter gradients (im2col + OpenBLAS SGEMM)
 *   rows.c    row-parallel channel reductions: training batch norm (forward, backward), column sums
 *   pool.c    max-pooling gradient
 *   threads.c the thread count every kernel splits its work over
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

/* threads.c */
int kd_threads(void);
void kd_set_threads(int threads);

/* conv.c: operands (x, w, y), (dy, w, dx) or (x, dy, dw) by pass; 0 when out of memory. */
int conv_run(const Geometry *g, Pass pass, const float *a, const float *b, float *out);

/* rows.c: M rows of C channels; 0 when out of memory. */
int bn_forward(size_t m, size_t c, float eps, const float *x, const float *gamma, const float *beta,
               float *y, float *xhat, float *mean, float *variance, float *rstd);
int bn_backward(size_t m, size_t c, const float *dy, const float *xhat, const float *gamma, const float *rstd,
                float *dx, float *dgamma, float *dbeta);
int column_sums(size_t m, size_t c, const float *x, float *out);

/* pool.c: params [x, dy, dx, N, H, W, C, OH, OW, KH, KW, sh, sw, pt, pl]; 0 when out of memory. */
int max_pool_grad(const int *params, const float *x, const float *dy, float *dx);

#endif
