/**
 * Representational similarity analysis as TG-SAGE uses it to score candidates against a teacher
 * (Bashivan, Tensen & DiCarlo, "Teacher Guided Architecture Search", ICCV 2019): the
 * representational dissimilarity matrix (RDM) of a layer on a set of images is
 *   RDM[i][j] = 1 − pearson(f_i, f_j)          (f_i: the layer's flattened response to image i),
 * and the similarity of two networks at a layer is the Pearson correlation of the upper triangles of
 * their RDMs. `rdmUpper` is the plain definition; `rdmOfTensor` computes the same on the backend
 * (one matMul of centred, normalised responses) for probe batches, outside any gradient.
 */
import { tf } from '@kdbench/engine';

/** Pearson correlation of two equally long vectors (0 when either is constant). */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  if (n !== b.length || n === 0) throw new Error(`pearson: lengths ${a.length} and ${b.length}`);
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]! / n;
    mb += b[i]! / n;
  }
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i]! - ma;
    const db = b[i]! - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : 0;
}

/** Upper triangle (i < j, row by row) of the RDM of `n` responses of `d` values each ([n, d] row-major). */
export function rdmUpper(responses: Float32Array, n: number): Float64Array {
  if (n < 2 || responses.length % n !== 0) throw new Error(`rdmUpper: ${responses.length} values are not ${n} >= 2 responses`);
  const d = responses.length / n;
  const rows = Array.from({ length: n }, (_, i) => responses.subarray(i * d, (i + 1) * d));
  const out = new Float64Array((n * (n - 1)) / 2);
  let k = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) out[k++] = 1 - pearson(rows[i]!, rows[j]!);
  return out;
}

/** Pearson correlation of the two networks' RDMs on the same `n` images. */
export function rdmSimilarity(a: Float32Array, b: Float32Array, n: number): number {
  return pearson(rdmUpper(a, n), rdmUpper(b, n));
}

/**
 * The RDM upper triangle of a batch of responses held in a tensor ([B, ...], one response per row),
 * computed on the backend (centred, normalised rows: the correlation matrix is one matMul).
 */
export function rdmOfTensor(responses: tf.Tensor): Float64Array {
  const n = responses.shape[0]!;
  const corr = tf.tidy(() => {
    const flat = tf.reshape(responses, [n, -1]);
    const centred = tf.sub(flat, tf.mean(flat, 1, true));
    const norm = tf.sqrt(tf.sum(tf.mul(centred, centred), 1, true));
    const z = tf.div(centred, tf.maximum(norm, 1e-12));
    return tf.matMul(z, z, false, true);
  });
  const c = corr.dataSync();
  corr.dispose();
  const out = new Float64Array((n * (n - 1)) / 2);
  let k = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) out[k++] = 1 - c[i * n + j]!;
  return out;
}
