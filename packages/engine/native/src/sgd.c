/*
 * SGD with momentum and L2 weight decay for a list of variables in one call, in PyTorch's
 * formulation and the tfjs optimiser's operation order (no fused multiply-adds, so the result is
 * the same float for float as the elementwise kernels it replaces):
 *   d = g + w * wd;  v' = v * momentum + d;  w' = w - v' * lr
 * Each variable is split into the pool's shares, so every share gets an equal part of every one.
 */
#include "kdnative.h"

typedef struct {
  const SgdVariable *vars;
  int count, shares;
  float lr, momentum, wd;
} Sgd;

static void sgd_task(void *ctx, int index) {
  const Sgd *s = (const Sgd *)ctx;
  for (int k = 0; k < s->count; k++) {
    const SgdVariable *p = &s->vars[k];
    const size_t i0 = p->size * (size_t)index / (size_t)s->shares, i1 = p->size * (size_t)(index + 1) / (size_t)s->shares;
    const float *restrict w = p->w, *restrict g = p->g, *restrict v = p->v;
    float *restrict wn = p->w_out, *restrict vn = p->v_out;
    for (size_t i = i0; i < i1; i++) {
      const float d = g[i] + w[i] * s->wd;
      const float velocity = v[i] * s->momentum + d;
      vn[i] = velocity;
      wn[i] = w[i] - velocity * s->lr;
    }
  }
}

void sgd_momentum(const SgdVariable *vars, int count, float lr, float momentum, float weight_decay) {
  size_t total = 0;
  for (int k = 0; k < count; k++) total += vars[k].size;
  Sgd s = {vars, count, kd_split_count(total, 1 << 16, total), lr, momentum, weight_decay};
  kd_parallel(s.shares, sgd_task, &s);
}
