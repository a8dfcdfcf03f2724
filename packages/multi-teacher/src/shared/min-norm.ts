/**
 * AE-KD's per-batch teacher weights (Du et al., NeurIPS 2020): the minimum-norm point of the
 * teachers' gradient vectors g_1..g_M within the capped simplex,
 *   min_w 1/2 || sum_m w_m g_m ||^2 = 1/2 w^T G w,   G = [g_i . g_j],
 *   s.t. sum_m w_m = 1, 0 <= w_m <= C,
 * where the cap C (the paper's tolerance) keeps the student from following one teacher only. The
 * reference code solves this dual with a one-class SVM (nu = 1 / (C M)); here projected gradient
 * descent with step 1 / trace(G) and an exact projection onto the capped simplex solves the same
 * convex problem. C is clamped to [1/M, 1] as the reference clamps nu.
 */

/** Euclidean projection of v onto { w : sum w = 1, 0 <= w <= cap } (bisection on the shift). */
export function projectCappedSimplex(v: readonly number[], cap: number): number[] {
  const m = v.length;
  if (m === 0) throw new Error('projectCappedSimplex: empty vector');
  if (!(cap * m >= 1 - 1e-12)) throw new Error(`projectCappedSimplex: cap ${cap} is below 1/${m}: the set is empty`);
  const clip = (x: number) => Math.min(cap, Math.max(0, x));
  const mass = (tau: number) => v.reduce((s, x) => s + clip(x - tau), 0);
  // mass(tau) decreases from m*cap (tau <= min v - cap) to 0 (tau >= max v)
  let lo = Math.min(...v) - cap - 1;
  let hi = Math.max(...v);
  for (let i = 0; i < 200 && hi - lo > 1e-15; i++) {
    const mid = (lo + hi) / 2;
    if (mass(mid) > 1) lo = mid;
    else hi = mid;
  }
  const w = v.map((x) => clip(x - (lo + hi) / 2));
  const s = w.reduce((a, b) => a + b, 0);
  return w.map((x) => x / s); // remove the bisection's last ~1e-15 of mass error
}

/** The weights w minimising 1/2 w^T G w on the capped simplex (G symmetric positive semi-definite). */
export function minNormWeights(gram: readonly (readonly number[])[], cap: number, opts: { iterations?: number; tolerance?: number } = {}): number[] {
  const m = gram.length;
  if (m === 0 || gram.some((row) => row.length !== m)) throw new Error(`minNormWeights: the Gram matrix must be square, got ${m} rows`);
  if (m === 1) return [1];
  const c = Math.min(1, Math.max(cap, 1 / m));
  const trace = gram.reduce((s, row, i) => s + row[i]!, 0);
  if (!(trace > 0)) return Array(m).fill(1 / m); // all gradients zero: every point is optimal
  const step = 1 / trace; // trace >= largest eigenvalue of a PSD matrix
  let w = Array(m).fill(1 / m) as number[];
  for (let it = 0; it < (opts.iterations ?? 2000); it++) {
    const grad = gram.map((row) => row.reduce((s, g, j) => s + g * w[j]!, 0));
    const next = projectCappedSimplex(w.map((x, i) => x - step * grad[i]!), c);
    const moved = next.reduce((s, x, i) => Math.max(s, Math.abs(x - w[i]!)), 0);
    w = next;
    if (moved < (opts.tolerance ?? 1e-10)) break;
  }
  return w;
}

/** Gram matrix of row vectors. */
export function gramOf(vectors: readonly (readonly number[] | Float32Array)[]): number[][] {
  return vectors.map((a) => vectors.map((b) => {
    let s = 0;
    for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
    return s;
  }));
}
