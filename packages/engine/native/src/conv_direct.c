/*
 * Direct NHWC convolution kernels with AVX2/FMA register tiles, for the layers where im2col +
 * SGEMM is weak: few input channels or few output channels (CIFAR ResNets' 16-channel stage and
 * every net's stem), where the patch matrix costs as much memory traffic as the multiply.
 *   forward:         a tile of 6 consecutive output pixels (across rows) x 16 output channels
 *                    lives in registers; each step broadcasts 6 input values and loads one filter row.
 *   filter gradient: a tile of 6 input channels x 16 output channels of one filter tap lives in
 *                    registers while all of an image's output pixels stream through.
 * Each image is first copied into a zero-padded buffer, so no tile tests image borders; the filter
 * (forward) and the filter gradient are kept with their output channels padded to a multiple of 8,
 * and the last, partial channel block is stored through a small buffer (forward) or loaded with a
 * mask (filter gradient). direct_supported() says which geometries and passes these kernels take.
 * Built only when the compiler targets AVX2 and FMA (build.mjs passes -mavx2 -mfma where the CPU
 * has them); otherwise direct_supported() is always false and conv.c keeps im2col + SGEMM.
 */
#include <stdlib.h>
#include <string.h>
#include "kdnative.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

enum { MAX_SHARES = 64, FORWARD_TILE = 6, FILTER_TILE = 6 };

int direct_supported(const Geometry *g, Pass pass) {
  if (g->dh != 1 || g->dw != 1 || g->kh * g->kw == 1 || pass == BACKPROP_INPUT) return 0;
  /* measured on Zen 3 (scratch benchmarks of every CIFAR layer shape, one thread): the forward tile
     beats im2col + SGEMM up to 3x3 x 64 input channels (its filter columns stay in cache; beyond,
     SGEMM's blocking wins), the filter-gradient tile where patch rows are short or outputs narrow */
  const int k = g->kh * g->kw * g->ci;
  return pass == FORWARD ? k <= 640 : k <= 160 || g->co <= 16;
}

/* Output channels rounded up to whole vectors. */
static int padded_channels(const Geometry *g) {
  return (g->co + 7) & ~7;
}

/* Lanes [0, n) set. */
static __m256i lanes(int n) {
  static const int table[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
  return _mm256_loadu_si256((const __m256i *)(table + 8 - n));
}

/* The padded image: (h + pt + pb) x (w + pl + pr) x ci with pb, pr covering the last tap. */
typedef struct {
  int ph, pw;
} Padded;

static Padded padded_size(const Geometry *g) {
  const int need_h = (g->oh - 1) * g->sh + g->kh, need_w = (g->ow - 1) * g->sw + g->kw;
  Padded p = {need_h > g->h + g->pt ? need_h : g->h + g->pt, need_w > g->w + g->pl ? need_w : g->w + g->pl};
  return p;
}

static void pad_image(const Geometry *g, Padded p, const float *x, float *out) {
  const size_t ci = (size_t)g->ci;
  memset(out, 0, (size_t)p.ph * p.pw * ci * sizeof(float));
  for (int ih = 0; ih < g->h; ih++) {
    memcpy(out + ((size_t)(ih + g->pt) * p.pw + g->pl) * ci, x + (size_t)ih * g->w * ci, (size_t)g->w * ci * sizeof(float));
  }
}

/*
 * Forward tile: y[r, cb..cb+width) for r < R output pixels (rows of y, `co` floats apart) whose
 * first taps are at px[r] in the padded image; w points at the padded filter's column block (rows
 * co8 floats apart); J = vectors in the block (width > 8 * (J - 1)).
 */
static inline __attribute__((always_inline)) void forward_tile(
    const Geometry *g, int R, int J, const float *const *px, size_t row, const float *w, int co8, int width, float *y) {
  /* named accumulators (an array of vectors is kept in memory across the tap loops by GCC) */
  __m256 a00 = _mm256_setzero_ps(), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00;
  __m256 a30 = a00, a31 = a00, a40 = a00, a41 = a00, a50 = a00, a51 = a00;
  const int ci = g->ci;
  for (int kh = 0; kh < g->kh; kh++) {
    for (int kw = 0; kw < g->kw; kw++) {
      const size_t tap = (size_t)kh * row + (size_t)kw * ci;
      const float *x0 = px[0] + tap, *x1 = px[R > 1 ? 1 : 0] + tap, *x2 = px[R > 2 ? 2 : 0] + tap;
      const float *x3 = px[R > 3 ? 3 : 0] + tap, *x4 = px[R > 4 ? 4 : 0] + tap, *x5 = px[R > 5 ? 5 : 0] + tap;
      const float *wt = w + ((size_t)kh * g->kw + kw) * ci * co8;
      for (int c = 0; c < ci; c++) {
        const __m256 w0 = _mm256_loadu_ps(wt + (size_t)c * co8);
        const __m256 w1 = J > 1 ? _mm256_loadu_ps(wt + (size_t)c * co8 + 8) : w0;
#define ROW(r)                                                       \
  if (R > r) {                                                       \
    const __m256 v = _mm256_broadcast_ss(x##r + c);                   \
    a##r##0 = _mm256_fmadd_ps(v, w0, a##r##0);                       \
    if (J > 1) a##r##1 = _mm256_fmadd_ps(v, w1, a##r##1);            \
  }
        ROW(0) ROW(1) ROW(2) ROW(3) ROW(4) ROW(5)
#undef ROW
      }
    }
  }
  const __m256 acc[FORWARD_TILE][2] = {{a00, a01}, {a10, a11}, {a20, a21}, {a30, a31}, {a40, a41}, {a50, a51}};
  if (width == 8 * J) {
    for (int r = 0; r < R; r++)
      for (int j = 0; j < J; j++) _mm256_storeu_ps(y + (size_t)r * g->co + 8 * j, acc[r][j]);
    return;
  }
  float tile[16];
  for (int r = 0; r < R; r++) {
    for (int j = 0; j < J; j++) _mm256_storeu_ps(tile + 8 * j, acc[r][j]);
    memcpy(y + (size_t)r * g->co, tile, (size_t)width * sizeof(float));
  }
}

#define FORWARD_CASE(R, J) case R: forward_tile(g, R, J, px, row, wc, co8, width, y); break;

/* The forward pass of one image: tiles of up to FORWARD_TILE consecutive output pixels (across rows). */
static void forward_image(const Geometry *g, Padded p, const float *xpad, const float *w, const size_t *offsets, float *yimg) {
  const size_t row = (size_t)p.pw * g->ci;
  const int co8 = padded_channels(g), pixels = g->oh * g->ow;
  for (int p0 = 0; p0 < pixels; p0 += FORWARD_TILE) {
    const int R = pixels - p0 < FORWARD_TILE ? pixels - p0 : FORWARD_TILE;
    const float *px[FORWARD_TILE];
    for (int r = 0; r < R; r++) px[r] = xpad + offsets[p0 + r];
    for (int cb = 0; cb < g->co; cb += 16) {
      const int width = g->co - cb < 16 ? g->co - cb : 16;
      const int J = width > 8 ? 2 : 1;
      float *y = yimg + (size_t)p0 * g->co + cb;
      const float *wc = w + cb;
      if (J == 2) {
        switch (R) { FORWARD_CASE(1, 2) FORWARD_CASE(2, 2) FORWARD_CASE(3, 2) FORWARD_CASE(4, 2) FORWARD_CASE(5, 2) FORWARD_CASE(6, 2) }
      } else {
        switch (R) { FORWARD_CASE(1, 1) FORWARD_CASE(2, 1) FORWARD_CASE(3, 1) FORWARD_CASE(4, 1) FORWARD_CASE(5, 1) FORWARD_CASE(6, 1) }
      }
    }
  }
}

/*
 * Filter-gradient tile: dw[tap][c0..c0+CB)[cb..cb+8J) += sum over an image's output pixels of
 * x[pixel's tap input][c] * dy[pixel][cb..]: accumulators loaded, updated over the pixels, stored.
 * xp is the tap's first input channel c0 for the pixel at offset 0; pixel q's is xp + offsets[q].
 * dw is the padded gradient (rows co8 floats apart); the last vector of dy is loaded through
 * `mask` (all lanes for a full block).
 */
static inline __attribute__((always_inline)) void filter_tile(
    const Geometry *g, int CB, int J, const float *xp, const size_t *offsets, const float *dy, float *dw, int co8, __m256i mask) {
  __m256 acc[FILTER_TILE][2];
  for (int c = 0; c < CB; c++)
    for (int j = 0; j < J; j++) acc[c][j] = _mm256_loadu_ps(dw + (size_t)c * co8 + 8 * j);
  const int pixels = g->oh * g->ow;
  for (int q = 0; q < pixels; q++) {
    const float *d = dy + (size_t)q * g->co;
    const __m256 d0 = J > 1 ? _mm256_loadu_ps(d) : _mm256_maskload_ps(d, mask);
    const __m256 d1 = J > 1 ? _mm256_maskload_ps(d + 8, mask) : d0;
    const float *x = xp + offsets[q];
    for (int c = 0; c < CB; c++) {
      const __m256 v = _mm256_broadcast_ss(x + c);
      acc[c][0] = _mm256_fmadd_ps(v, d0, acc[c][0]);
      if (J > 1) acc[c][1] = _mm256_fmadd_ps(v, d1, acc[c][1]);
    }
  }
  for (int c = 0; c < CB; c++)
    for (int j = 0; j < J; j++) _mm256_storeu_ps(dw + (size_t)c * co8 + 8 * j, acc[c][j]);
}

#define FILTER_CASE(CB, J) case CB: filter_tile(g, CB, J, xp, offsets, dyc, dwt, co8, mask); break;

/* The filter gradient of one image, added into dw (padded). */
static void filter_image(const Geometry *g, Padded p, const float *xpad, const float *dyimg, const size_t *offsets, float *dw) {
  const size_t ci = (size_t)g->ci, row = (size_t)p.pw * ci;
  const int co8 = padded_channels(g);
  for (int kh = 0; kh < g->kh; kh++) {
    for (int kw = 0; kw < g->kw; kw++) {
      const float *xt = xpad + (size_t)kh * row + (size_t)kw * ci;
      float *dwtap = dw + ((size_t)kh * g->kw + kw) * ci * co8;
      for (int c0 = 0; c0 < g->ci; c0 += FILTER_TILE) {
        const int CB = g->ci - c0 < FILTER_TILE ? g->ci - c0 : FILTER_TILE;
        for (int cb = 0; cb < g->co; cb += 16) {
          const int width = g->co - cb < 16 ? g->co - cb : 16;
          const int J = width > 8 ? 2 : 1;
          const __m256i mask = lanes(width - 8 * (J - 1));
          const float *xp = xt + c0;
          const float *dyc = dyimg + cb;
          float *dwt = dwtap + (size_t)c0 * co8 + cb;
          if (J == 2) {
            switch (CB) { FILTER_CASE(1, 2) FILTER_CASE(2, 2) FILTER_CASE(3, 2) FILTER_CASE(4, 2) FILTER_CASE(5, 2) FILTER_CASE(6, 2) }
          } else {
            switch (CB) { FILTER_CASE(1, 1) FILTER_CASE(2, 1) FILTER_CASE(3, 1) FILTER_CASE(4, 1) FILTER_CASE(5, 1) FILTER_CASE(6, 1) }
          }
        }
      }
    }
  }
}

typedef struct {
  const Geometry *g;
  Pass pass;
  const float *a, *b;    /* FORWARD: x and the padded filter; BACKPROP_FILTER: x and dy */
  float *out;            /* FORWARD: y; BACKPROP_FILTER: unused (see partials) */
  float *partials;       /* BACKPROP_FILTER: one padded filter gradient per share */
  const size_t *offsets; /* each output pixel's first tap in the padded image */
  int shares, failed[MAX_SHARES];
} Direct;

static void direct_task(void *ctx, int index) {
  Direct *d = (Direct *)ctx;
  const Geometry *g = d->g;
  const Padded p = padded_size(g);
  const int n0 = (int)((long)g->n * index / d->shares), n1 = (int)((long)g->n * (index + 1) / d->shares);
  const size_t filter = (size_t)g->kh * g->kw * g->ci * padded_channels(g);
  float *dw = d->pass == BACKPROP_FILTER ? d->partials + (size_t)index * filter : NULL;
  if (dw != NULL) memset(dw, 0, filter * sizeof(float));
  float *xpad = (float *)malloc((size_t)p.ph * p.pw * g->ci * sizeof(float));
  if (xpad == NULL) {
    d->failed[index] = 1;
    return;
  }
  const size_t x_image = (size_t)g->h * g->w * g->ci, y_image = (size_t)g->oh * g->ow * g->co;
  for (int n = n0; n < n1; n++) {
    pad_image(g, p, d->a + (size_t)n * x_image, xpad);
    if (d->pass == FORWARD) forward_image(g, p, xpad, d->b, d->offsets, d->out + (size_t)n * y_image);
    else filter_image(g, p, xpad, d->b + (size_t)n * y_image, d->offsets, dw);
  }
  free(xpad);
}

int direct_run(const Geometry *g, Pass pass, const float *a, const float *b, float *out) {
  const double flops = 2.0 * g->n * g->oh * g->ow * g->kh * g->kw * g->ci * g->co;
  int shares = kd_split_count(flops > 4e18 ? (size_t)-1 : (size_t)flops, 2000000, (size_t)g->n);
  if (shares > MAX_SHARES) shares = MAX_SHARES;
  const size_t rows = (size_t)g->kh * g->kw * g->ci, co8 = (size_t)padded_channels(g);
  if (pass == BACKPROP_FILTER) shares = filter_shares(shares, rows * co8);
  /* forward: the filter with its channels padded; filter gradient: one padded gradient per share */
  float *buffer = (float *)calloc((pass == FORWARD ? 1 : (size_t)shares) * rows * co8, sizeof(float));
  size_t *offsets = (size_t *)malloc((size_t)g->oh * g->ow * sizeof(size_t));
  if (buffer == NULL || offsets == NULL) {
    free(buffer);
    free(offsets);
    return 0;
  }
  const Padded p = padded_size(g);
  for (int oh = 0; oh < g->oh; oh++) {
    for (int ow = 0; ow < g->ow; ow++) offsets[oh * g->ow + ow] = ((size_t)oh * g->sh * p.pw + (size_t)ow * g->sw) * g->ci;
  }
  if (pass == FORWARD) {
    for (size_t r = 0; r < rows; r++) memcpy(buffer + r * co8, b + r * g->co, (size_t)g->co * sizeof(float));
  }
  Direct d = {g, pass, a, pass == FORWARD ? buffer : b, out, pass == FORWARD ? NULL : buffer, offsets, shares, {0}};
  kd_parallel(shares, direct_task, &d);
  int ok = 1;
  for (int i = 0; i < shares; i++) ok = ok && !d.failed[i];
  if (pass == BACKPROP_FILTER) {
    for (size_t r = 0; r < rows; r++) {
      float *dst = out + r * g->co;
      memcpy(dst, buffer + r * co8, (size_t)g->co * sizeof(float));
      for (int i = 1; i < shares; i++) {
        const float *part = buffer + (size_t)i * rows * co8 + r * co8;
        for (int j = 0; j < g->co; j++) dst[j] += part[j];
      }
    }
  }
  free(buffer);
  free(offsets);
  return ok;
}

#else

int direct_supported(const Geometry *g, Pass pass) {
  (void)g, (void)pass;
  return 0;
}

int direct_run(const Geometry *g, Pass pass, const float *a, const float *b, float *out) {
  (void)g, (void)pass, (void)a, (void)b, (void)out;
  return 0;
}

#endif
