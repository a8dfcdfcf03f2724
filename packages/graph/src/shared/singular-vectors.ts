/**
 * Leading right singular vectors of per-sample feature matrices, with their exact gradient: the
 * compression step of MHGD (Lee & Song, BMVC 2019; KD_methods_with_TF nets/SVP.py `SVD_eid`).
 *
 * For a map X [HW, D] of one sample, the right singular vectors are the eigenvectors of X^T X, in
 * order of decreasing eigenvalue (squared singular value). TensorFlow.js has no eigensolver, so the
 * D x D Gram matrices are decomposed in JavaScript by the cyclic Jacobi method (D is at most a few
 * hundred channels). The gradient is the eigenvector derivative: for upstream gradients g_i of the
 * kept vectors v_i,
 *   dL/dG = sum_i sum_{j != i} (v_j . g_i) / (lambda_i - lambda_j) v_j v_i^T,   dL/dX = X (dL/dG + dL/dG^T),
 * with the terms of equal eigenvalues dropped (the authors' gradient sets those NaNs to 0). Each
 * vector's sign is fixed so that its largest-magnitude component is positive (LAPACK leaves it free).
 */
import { tf } from '@kdbench/engine';

/** Eigenvalues (descending) and unit eigenvectors (row i belongs to value i) of a symmetric n x n matrix. */
export function symmetricEigen(matrix: ArrayLike<number>, n: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(matrix);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  const at = (i: number, j: number) => a[i * n + j]!;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let total = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        total += at(i, j) ** 2;
        if (i !== j) off += at(i, j) ** 2;
      }
    }
    if (off <= 1e-24 * total || off === 0) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = at(p, q);
        if (apq === 0) continue;
        const theta = (at(q, q) - at(p, p)) / (2 * apq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          // columns p and q of A, then rows p and q: A <- J^T A J
          const akp = a[k * n + p]!;
          const akq = a[k * n + q]!;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k]!;
          const aqk = a[q * n + k]!;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          // eigenvectors as rows of V: rows p and q rotate together
          const vpk = v[p * n + k]!;
          const vqk = v[q * n + k]!;
          v[p * n + k] = c * vpk - s * vqk;
          v[q * n + k] = s * vpk + c * vqk;
        }
      }
    }
  }
  const order = [...Array(n).keys()].sort((x, y) => at(y, y) - at(x, x) || x - y);
  const values = Float64Array.from(order, (i) => at(i, i));
  const vectors = new Float64Array(n * n);
  order.forEach((i, r) => {
    let big = 0;
    for (let k = 1; k < n; k++) if (Math.abs(v[i * n + k]!) > Math.abs(v[i * n + big]!)) big = k;
    const sign = v[i * n + big]! < 0 ? -1 : 1;
    for (let k = 0; k < n; k++) vectors[r * n + k] = sign * v[i * n + k]!;
  });
  return { values, vectors };
}

/**
 * The `count` leading right singular vectors of every sample of x [B, N, D], as rows: [B, count, D].
 * Differentiable in x (eigenvector derivative above).
 */
export function rightSingularVectors(x: tf.Tensor3D, count: number): tf.Tensor3D {
  const [b, , d] = x.shape;
  if (!(Number.isInteger(count) && count >= 1 && count <= d)) throw new Error(`rightSingularVectors: count must be an integer in [1, ${d}], got ${count}`);
  const op = tf.customGrad((input, save) => {
    const xi = input as tf.Tensor3D;
    const gram = tf.tidy(() => tf.matMul(xi, xi, true, false)).dataSync();
    const all = new Float32Array(b * d * d);
    const top = new Float32Array(b * count * d);
    const inv = new Float32Array(b * d * count); // [b, j, i]: 1 / (lambda_i - lambda_j), 0 when j = i or equal
    for (let s = 0; s < b; s++) {
      const { values, vectors } = symmetricEigen(gram.subarray(s * d * d, (s + 1) * d * d), d);
      all.set(vectors, s * d * d);
      top.set(vectors.subarray(0, count * d), s * count * d);
      for (let j = 0; j < d; j++) {
        for (let i = 0; i < count; i++) {
          const gap = values[i]! - values[j]!;
          inv[(s * d + j) * count + i] = j === i || gap === 0 || !Number.isFinite(1 / gap) ? 0 : 1 / gap;
        }
      }
    }
    const vall = tf.tensor3d(all, [b, d, d]);
    const vtop = tf.tensor3d(top, [b, count, d]);
    const k = tf.tensor3d(inv, [b, d, count]);
    (save as unknown as (t: tf.Tensor[]) => void)([xi, vall, vtop, k]);
    return {
      value: vtop.clone(),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, va, vt, kk] = saved as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D, tf.Tensor3D];
        // F[j, i] = (v_j . g_i) K[j, i]; dG = V_all^T F V_top
        const f = tf.mul(tf.matMul(va, dy as tf.Tensor3D, false, true), kk) as tf.Tensor3D;
        const dg = tf.matMul(tf.matMul(va, f, true, false), vt) as tf.Tensor3D;
        return tf.matMul(xs, tf.add(dg, tf.transpose(dg, [0, 2, 1])) as tf.Tensor3D);
      },
    };
  });
  return op(x) as tf.Tensor3D;
}

/**
 * For each sample, the student vector (of `s` [B, n, D]) with the largest |cosine| to the teacher
 * vector `t` [B, D], times the sign of that cosine: [B, D] (the code's `Align_rsv`).
 */
export function alignToTeacher(s: tf.Tensor3D, t: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const [b, n] = s.shape;
    const cos = tf.tidy(() => tf.squeeze(tf.matMul(s, tf.expandDims(t, 2)), [2])).dataSync();
    const pick = new Float32Array(b * n);
    for (let r = 0; r < b; r++) {
      let best = 0;
      for (let i = 1; i < n; i++) if (Math.abs(cos[r * n + i]!) > Math.abs(cos[r * n + best]!)) best = i;
      pick[r * n + best] = cos[r * n + best]! < 0 ? -1 : 1;
    }
    return tf.sum(tf.mul(s, tf.tensor3d(pick, [b, n, 1])), 1) as tf.Tensor2D;
  });
}
