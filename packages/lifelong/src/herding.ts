/**
 * iCaRL's exemplar selection by herding and its class means (Rebuffi, Kolesnikov, Sperl & Lampert,
 * "iCaRL: Incremental Classifier and Representation Learning", CVPR 2017, Algorithms 4 and 1).
 *
 * Features are L2-normalised first (iCaRL's φ). Herding picks, one at a time, the sample that keeps
 * the mean of the chosen exemplars closest to the class mean μ:
 *   p_k = argmin_x || μ − (1/k) (φ(x) + Σ_{j<k} φ(p_j)) ||,
 * so any prefix of the list is a good approximation of μ, and reducing the memory keeps a prefix.
 * A sample is chosen at most once.
 */

/** Row-wise L2 normalisation of an [n, d] row-major matrix (zero rows stay zero). */
export function normalizeRows(features: Float32Array, d: number): Float32Array {
  const out = new Float32Array(features.length);
  for (let i = 0; i < features.length / d; i++) {
    let norm = 0;
    for (let k = 0; k < d; k++) norm += features[i * d + k]! ** 2;
    const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let k = 0; k < d; k++) out[i * d + k] = features[i * d + k]! * inv;
  }
  return out;
}

/** Indices (0..n-1) of up to `m` exemplars of one class in herding order. `features` is [n, d]. */
export function herding(features: Float32Array, d: number, m: number): number[] {
  if (!(d >= 1) || features.length % d !== 0) throw new Error(`herding: ${features.length} values are not rows of ${d}`);
  const n = features.length / d;
  const phi = normalizeRows(features, d);
  const mu = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) mu[k] += phi[i * d + k]! / n;
  const sum = new Float64Array(d);
  const taken = new Uint8Array(n);
  const chosen: number[] = [];
  for (let step = 1; step <= Math.min(m, n); step++) {
    let best = -1;
    let bestDist = Infinity;
    for (let i = 0; i < n; i++) {
      if (taken[i]) continue;
      let dist = 0;
      for (let k = 0; k < d; k++) dist += (mu[k]! - (sum[k]! + phi[i * d + k]!) / step) ** 2;
      if (dist < bestDist) {
        bestDist = dist;
        best = i;
      }
    }
    taken[best] = 1;
    chosen.push(best);
    for (let k = 0; k < d; k++) sum[k] += phi[best * d + k]!;
  }
  return chosen;
}

/** The L2-normalised mean of the L2-normalised rows of an [n, d] matrix (a class prototype). */
export function classMean(features: Float32Array, d: number): Float32Array {
  const n = features.length / d;
  if (!(n >= 1)) throw new Error('classMean: no rows');
  const phi = normalizeRows(features, d);
  const mean = new Float32Array(d);
  for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) mean[k] += phi[i * d + k]! / n;
  return normalizeRows(mean, d);
}
