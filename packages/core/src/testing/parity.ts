/**
 * Loss parity with the authors' code: a reader for the fixtures in
 * `benchmarks/published/loss-parity/` (one JSON file per loss, computed with RepDistiller and
 * mdistiller in PyTorch, float32; see that folder's README) and the README's tolerance checks.
 *
 * A parity test feeds a kdbench loss the recorded inputs (`fixtureInput`, 4-D tensors transposed
 * from NCHW to NHWC, conv weights from OIHW to HWIO, linear weights from [out, in] to [in, out]),
 * computes the loss and its gradients (`termsAndGrads`) and asks `lossFindings` / `gradFindings`
 * for the entries outside the tolerances: [] when the loss reproduces the authors' code.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tf } from '@kdbench/engine';

export interface FixtureArray {
  readonly shape: number[];
  readonly dtype: 'float32' | 'int64';
  readonly data: number[];
  readonly role?: 'student' | 'teacher' | 'parameter' | 'buffer' | 'index' | 'label';
}

export interface ParityFixture {
  readonly id: string;
  readonly title: string;
  readonly reference: { repo: string; commit: string; path: string; name: string };
  readonly params: Record<string, unknown>;
  readonly inputs: Record<string, FixtureArray>;
  /** The loss: a number, or one number per layer pair (the gradient is then of their sum). */
  readonly output: number | number[];
  readonly grads: Record<string, FixtureArray>;
  readonly intermediates?: Record<string, unknown>;
  readonly note: string;
}

/** The README's tolerances: loss relative, gradients relative plus a floor scaled by the tensor's max. */
export const PARITY_TOLERANCE = { lossRel: 1e-4, gradRel: 1e-3, gradAbsOfMax: 1e-5 } as const;

/** The fixtures folder: $KDBENCH_PARITY_DIR, or benchmarks/published/loss-parity of this checkout. */
export function parityDir(): string {
  return process.env.KDBENCH_PARITY_DIR ?? fileURLToPath(new URL('../../../../benchmarks/published/loss-parity/', import.meta.url));
}

export function readParityFixture(id: string): ParityFixture {
  const file = join(parityDir(), `${id}.json`);
  const fx = JSON.parse(readFileSync(file, 'utf8')) as ParityFixture;
  if (fx.id !== id) throw new Error(`${file}: fixture id is '${fx.id}', expected '${id}'`);
  return fx;
}

/** How a recorded array maps to the kdbench layout. */
export type FixtureLayout = 'as-is' | 'nhwc' | 'conv-hwio' | 'linear-in-out';

function entry(fx: ParityFixture, name: string, from: 'inputs' | 'grads'): FixtureArray {
  const a = fx[from][name];
  if (!a) throw new Error(`fixture '${fx.id}' has no ${from === 'inputs' ? 'input' : 'gradient'} '${name}' (has ${Object.keys(fx[from]).join(', ')})`);
  return a;
}

function toLayout(a: FixtureArray, layout: FixtureLayout): tf.Tensor {
  const t = tf.tensor(a.data, a.shape, a.dtype === 'int64' ? 'int32' : 'float32');
  const perm = layout === 'nhwc' ? [0, 2, 3, 1] : layout === 'conv-hwio' ? [2, 3, 1, 0] : layout === 'linear-in-out' ? [1, 0] : null;
  if (!perm) return t;
  if (a.shape.length !== perm.length) throw new Error(`layout '${layout}' needs a ${perm.length}-d array, got shape [${a.shape}]`);
  return tf.tidy(() => tf.transpose(t, perm));
}

/** A recorded input as a tensor (default layout: NHWC for 4-d arrays, as recorded otherwise). */
export function fixtureInput(fx: ParityFixture, name: string, layout?: FixtureLayout): tf.Tensor {
  const a = entry(fx, name, 'inputs');
  return toLayout(a, layout ?? (a.shape.length === 4 ? 'nhwc' : 'as-is'));
}

/** A recorded gradient in the same layout as `fixtureInput` gives its input. */
export function fixtureGrad(fx: ParityFixture, name: string, layout?: FixtureLayout): tf.Tensor {
  const a = entry(fx, name, 'grads');
  return toLayout(a, layout ?? (a.shape.length === 4 ? 'nhwc' : 'as-is'));
}

/** The loss as a list (one value per layer pair, or a single value). */
export function fixtureOutputs(fx: ParityFixture): number[] {
  return Array.isArray(fx.output) ? fx.output : [fx.output];
}

/** Loss values outside the tolerance, one line each ([] when every value matches). */
export function lossFindings(fx: ParityFixture, actual: number | number[]): string[] {
  const got = Array.isArray(actual) ? actual : [actual];
  const want = fixtureOutputs(fx);
  if (got.length !== want.length) return [`${fx.id}: ${got.length} loss values, the fixture has ${want.length}`];
  return want.flatMap((r, i) => {
    const a = got[i]!;
    return Math.abs(a - r) <= PARITY_TOLERANCE.lossRel * Math.abs(r) ? [] : [`${fx.id}: loss[${i}] = ${a}, reference ${r}`];
  });
}

/**
 * Gradient entries outside the tolerance (at most 5 reported per tensor). `actual` is in the
 * layout `layout` names for the recorded array (NHWC for 4-d inputs by default).
 */
export function gradFindings(fx: ParityFixture, name: string, actual: tf.Tensor, layout?: FixtureLayout): string[] {
  const want = fixtureGrad(fx, name, layout);
  try {
    if (want.shape.join() !== actual.shape.join()) return [`${fx.id}: gradient '${name}' has shape [${actual.shape}], reference [${want.shape}]`];
    const r = want.dataSync();
    const a = actual.dataSync();
    let maxAbs = 0;
    for (const v of r) maxAbs = Math.max(maxAbs, Math.abs(v));
    const out: string[] = [];
    let bad = 0;
    for (let i = 0; i < r.length; i++) {
      const tol = PARITY_TOLERANCE.gradRel * Math.abs(r[i]!) + PARITY_TOLERANCE.gradAbsOfMax * maxAbs;
      if (!(Math.abs(a[i]! - r[i]!) <= tol)) {
        bad++;
        if (out.length < 5) out.push(`${fx.id}: d/d${name}[${i}] = ${a[i]}, reference ${r[i]} (tolerance ${tol.toExponential(2)})`);
      }
    }
    if (bad > out.length) out.push(`${fx.id}: d/d${name}: ${bad - out.length} more entries outside the tolerance`);
    return out;
  } finally {
    want.dispose();
  }
}

/**
 * The loss terms' values and the gradient of their sum with respect to `vars`: the student's
 * inputs (wrap each in `tf.variable`) and the loss module's weights. Dispose the gradients.
 */
export function termsAndGrads(vars: tf.Variable[], loss: () => tf.Scalar[]): { values: number[]; grads: Map<tf.Variable, tf.Tensor> } {
  let values: number[] = [];
  const out = tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => {
      const terms = loss();
      values = Array.from(tf.stack(terms).dataSync());
      return tf.addN(terms) as tf.Scalar;
    }, vars);
    value.dispose();
    return vars.map((v) => grads[v.name]!);
  });
  return { values, grads: new Map(vars.map((v, i) => [v, out[i]!])) };
}
