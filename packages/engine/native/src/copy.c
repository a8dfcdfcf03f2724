/*
 * Data movement of 4-byte elements on the wasm heap, split over the pool by rows:
 *   copy_segments: `rows` rows, each made of segments copied from one array to another at their
 *     own strides; Concat and SplitV along any axis are this (a row is everything before the axis).
 *   transpose_last2: out[b, j, i] = in[b, i, j] for [batch, r, c] inputs (ShuffleNet's channel
 *     shuffle is this with r = groups).
 */
#include <string.h>
#include "kdnative.h"

enum { MIN_FLOATS = 1 << 16 };

typedef struct {
  size_t rows;
  int count, shares;
  const Segment *segments;
  const float *base;
  float *out_base;
} Copy;

static void copy_task(void *ctx, int index) {
  const Copy *c = (const Copy *)ctx;
  const size_t r0 = c->rows * (size_t)index / (size_t)c->shares, r1 = c->rows * (size_t)(index + 1) / (size_t)c->shares;
  for (size_t r = r0; r < r1; r++) {
    for (int s = 0; s < c->count; s++) {
      const Segment *g = &c->segments[s];
      memcpy(c->out_base + g->dst + r * g->dst_stride, c->base + g->src + r * g->src_stride, g->width * sizeof(float));
    }
  }
}

void copy_segments(float *heap, size_t rows, const Segment *segments, int count) {
  size_t per_row = 0;
  for (int s = 0; s < count; s++) per_row += segments[s].width;
  Copy c = {rows, count, kd_split_count(rows * per_row, MIN_FLOATS, rows), segments, heap, heap};
  kd_parallel(c.shares, copy_task, &c);
}

typedef struct {
  const float *in;
  float *out;
  size_t batch, r, c;
  int shares;
} Transpose;

static void transpose_task(void *ctx, int index) {
  const Transpose *t = (const Transpose *)ctx;
  const size_t b0 = t->batch * (size_t)index / (size_t)t->shares, b1 = t->batch * (size_t)(index + 1) / (size_t)t->shares;
  const size_t size = t->r * t->c;
  for (size_t b = b0; b < b1; b++) {
    const float *restrict in = t->in + b * size;
    float *restrict out = t->out + b * size;
    for (size_t i = 0; i < t->r; i++) {
      for (size_t j = 0; j < t->c; j++) out[j * t->r + i] = in[i * t->c + j];
    }
  }
}

void transpose_last2(const float *in, float *out, size_t batch, size_t r, size_t c) {
  Transpose t = {in, out, batch, r, c, kd_split_count(batch * r * c, MIN_FLOATS, batch)};
  kd_parallel(t.shares, transpose_task, &t);
}
