/**
 * MGD: K. Yue, J. Deng, F. Zhou, "Matching Guided Distillation", ECCV 2020 (arXiv:2008.09958,
 * https://arxiv.org/abs/2008.09958). Code: KaiyuYue/mgd @ 910a636 (mgd/builder.py, cls/main_mgd.py).
 *
 * Student channels are matched to teacher channels by an assignment problem, and the student
 * imitates the matched teacher channels with overhaul's partial L2 loss (Heo et al., ICCV 2019).
 * At each stage output (the pre-ReLU taps, `features[i].pre`, stem excluded):
 * - matching: C[j, c] = mean over images of 2 - 2 cos(s_j, t_c), the cosine between student
 *   channel j's and teacher channel c's spatial maps; with G = floor(C_t / C_s), C is stacked G
 *   times and the G*C_s x G*C_s assignment problem solved, so student channel j gets the G teacher
 *   channels guided[k * C_s + j], k < G (teacher channels past G*C_s are dropped). `sm` (sparse
 *   matching) instead solves C_s x C_t and keeps one teacher channel per student channel.
 * - reduction of the G channels to one: `amp` the value of largest magnitude (margin: their mean),
 *   `sp` the maximum (margin: the maximum), `rd` one chosen at random per element (margin: at random
 *   per channel).
 * - loss: with margins m from the teacher's batch norm before the ReLU (overhaul: E[x | x < 0] for
 *   x ~ N(beta, gamma^2), or -3|gamma| when P(x < 0) <= 0.001), target t' = max(t, m) and the
 *   student tap s after a trainable batch norm of its own,
 *     L_i = sum over batch, positions and channels of [s > t' or t' > 0] (s - t')^2,
 *     loss = CE + sum_i L_i / 2^(n - i) / batch / lossFactor  (+ kd * KD, off by default).
 * The matching is recomputed every `updateFreq` epochs (coordinate descent between assignments and
 * weights). Defaults: reducer amp, update frequency 2, KD off (cls/main_mgd.py); loss factor 1000,
 * overhaul's CIFAR value (clovaai/overhaul-distillation @ 76344a8, CIFAR-100/train_with_distillation.py;
 * MGD's 1e4 is "for input size 224"); KD temperature 1.5 (mgd/builder.py).
 */
import {
  crossEntropy, defineMethod, linearSumAssignment, moduleSeed, ParamModule, softTargetKL, spatialNormalizedChannels, stageShapes,
  type Part,
} from '@kdbench/core';
import { tf, type Rng } from '@kdbench/engine';
import { layers, type FeatureShape, type Model } from '@kdbench/models';

export const MGD_REDUCERS = ['amp', 'sp', 'rd', 'sm'] as const;
export type MgdReducer = (typeof MGD_REDUCERS)[number];

/** Complementary error function (Numerical Recipes' erfcc: relative error below 1.2e-7 everywhere). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const poly = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 +
    t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const r = t * Math.exp(-z * z + poly);
  return x >= 0 ? r : 2 - r;
}

/** The standard normal distribution function. */
export function normalCdf(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

/**
 * Overhaul's margin of each channel of a batch norm before a ReLU (scale gamma, shift beta): the
 * mean of the negative part of N(beta, gamma^2), beta - |gamma| phi(beta/|gamma|) / Phi(-beta/|gamma|),
 * or -3 |gamma| when Phi(-beta/|gamma|) <= 0.001.
 */
export function bnMargins(gamma: ArrayLike<number>, beta: ArrayLike<number>): Float32Array {
  return Float32Array.from({ length: gamma.length }, (_, i) => {
    const s = Math.abs(gamma[i]!);
    const m = beta[i]!;
    const below = normalCdf(-m / s);
    if (!(below > 0.001)) return -3 * s;
    return m - (s * Math.exp(-((m / s) ** 2) / 2)) / Math.sqrt(2 * Math.PI) / below;
  });
}

/** Summed over the batch: C[j, c] = sum_b 2 - 2 cos(s_bj, t_bc) of the channel maps, [C_s, C_t]. */
export function channelCosts(s: tf.Tensor4D, t: tf.Tensor4D): tf.Tensor2D {
  return tf.tidy(() => {
    const dots = tf.matMul(spatialNormalizedChannels(s), spatialNormalizedChannels(t), false, true);
    return tf.sub(2 * s.shape[0], tf.mul(tf.sum(dots, 0), 2)) as tf.Tensor2D;
  });
}

/**
 * The teacher channels of each student channel from a channel-cost matrix C [sc, tc] (row-major):
 * G = floor(tc / sc) replicas of C, solved as one square problem over the first G*sc teacher
 * channels, as rows k*sc + j -> teacher channel; `sm`: one teacher channel per student channel.
 */
export function matchChannels(cost: ArrayLike<number>, sc: number, tc: number, reducer: MgdReducer): Int32Array {
  if (reducer === 'sm') return linearSumAssignment(cost, sc, tc);
  const rows = Math.floor(tc / sc) * sc;
  const tiled = new Float64Array(rows * rows);
  for (let r = 0; r < rows; r++) for (let c = 0; c < rows; c++) tiled[r * rows + c] = cost[(r % sc) * tc + c]!;
  return linearSumAssignment(tiled, rows, rows);
}

/**
 * The target of one stage: the teacher tap reduced to the student's channels by the matching
 * `guided`, and the margins reduced alike ([B, H, W, sc] and [sc]). `rng` draws `rd`'s choices.
 */
export function reduceTeacher(
  t: tf.Tensor4D, margins: Float32Array, guided: Int32Array, sc: number, reducer: MgdReducer, rng?: Rng,
): { target: tf.Tensor4D; margin: tf.Tensor1D } {
  return tf.tidy(() => {
    const m = tf.tensor1d(margins);
    const groups = reducer === 'sm' ? 1 : guided.length / sc;
    const picks = Array.from({ length: groups }, (_, k) => tf.tensor1d(guided.slice(k * sc, k * sc + sc), 'int32'));
    // one teacher channel per student channel (sm, or as many teacher as student channels): a selection
    if (groups === 1) return { target: tf.gather(t, picks[0]!, 3), margin: tf.gather(m, picks[0]!) };
    const ts = tf.stack(picks.map((p) => tf.gather(t, p, 3)), 4); // [B, H, W, sc, G]
    const ms = tf.stack(picks.map((p) => tf.gather(m, p)), 1); // [sc, G]
    const take = (values: tf.Tensor, choice: tf.Tensor) => tf.sum(tf.mul(values, tf.oneHot(choice, groups)), -1);
    if (reducer === 'sp') return { target: tf.max(ts, 4) as tf.Tensor4D, margin: tf.max(ms, 1) as tf.Tensor1D };
    if (reducer === 'rd') {
      if (!rng) throw new Error('mgd: the rd reducer needs an Rng');
      const seed = () => Math.floor(rng.next() * 0x7fffffff);
      const element = tf.randomUniform(ts.shape.slice(0, 4), 0, groups, 'int32', seed());
      const channel = tf.randomUniform([sc], 0, groups, 'int32', seed());
      return { target: take(ts, element) as tf.Tensor4D, margin: take(ms, channel) as tf.Tensor1D };
    }
    // amp: the value of largest magnitude
    return { target: take(ts, tf.argMax(tf.abs(ts), 4)) as tf.Tensor4D, margin: tf.mean(ms, 1) as tf.Tensor1D };
  });
}

/** Overhaul's partial L2: sum of (s - t')^2 where s > t' or t' > 0, with t' = max(target, margin). */
export function partialL2(s: tf.Tensor4D, target: tf.Tensor4D, margin: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const t = tf.maximum(target, margin);
    // indicator masks from tf.step (zero gradient); comparisons have no gradient in tfjs
    const mask = tf.maximum(tf.step(tf.sub(s, t)), tf.step(t));
    return tf.sum(tf.mul(mask, tf.squaredDifference(s, t))) as tf.Scalar;
  });
}

/** The trainable batch norm MGD puts on each student tap before the loss. */
class StudentNorms extends ParamModule {
  readonly norms: layers.BatchNorm[];

  constructor(channels: readonly number[], seed: number) {
    super(seed);
    this.norms = channels.map((c, i) => new layers.BatchNorm(this.scope.child(`bn${i + 1}`), c));
  }
}

/**
 * The channel matching of every stage and the costs it is recomputed from: a part whose buffers
 * (costs summed since the last update, the image count, the matching; -1 before the first) are
 * checkpointed. Costs are tracked in the epochs that end before an update and applied after each
 * step; the first matching is solved from the first batch it sees.
 */
class ChannelMatching implements Part {
  private readonly costs: tf.Variable[];
  private readonly matches: tf.Variable[];
  private readonly images: tf.Variable;
  private pending: { costs: tf.Tensor2D[]; images: number } | null = null;
  private current: Int32Array[] | null = null;

  constructor(private readonly shapes: readonly { sc: number; tc: number }[], private readonly reducer: MgdReducer, private readonly freq: number) {
    const buffer = (make: () => tf.Tensor) => tf.tidy(() => tf.variable(make(), false));
    this.costs = shapes.map(({ sc, tc }) => buffer(() => tf.zeros([sc, tc])));
    this.matches = shapes.map(({ sc, tc }) => buffer(() => tf.fill([reducer === 'sm' ? sc : Math.floor(tc / sc) * sc], -1)));
    this.images = buffer(() => tf.zeros([1]));
  }

  buffers(): Record<string, tf.Variable> {
    return {
      'mgd/images': this.images,
      ...Object.fromEntries(this.costs.map((v, i) => [`mgd/cost${i + 1}`, v])),
      ...Object.fromEntries(this.matches.map((v, i) => [`mgd/match${i + 1}`, v])),
    };
  }

  /** Whether the costs of a batch of epoch `epoch` are tracked: the epoch ends before an update. */
  tracks(epoch: number): boolean {
    return (epoch + 1) % this.freq === 0;
  }

  onEpochStart(epoch: number): void {
    const images = this.images.dataSync()[0]!;
    if (epoch > 0 && epoch % this.freq === 0 && images > 0) {
      this.solve(this.costs.map((c) => c.dataSync()), images);
      tf.tidy(() => {
        for (const c of this.costs) c.assign(tf.zerosLike(c));
        this.images.assign(tf.zeros([1]));
      });
    }
    this.current = null; // read again from the buffers (also after a resume restored them)
  }

  /** The matching of every stage; solved from `batchCosts` (one batch of `images`) when there is none yet. */
  guided(batchCosts: () => tf.Tensor2D[], images: number): Int32Array[] {
    this.current ??= this.matches.map((m) => Int32Array.from(m.dataSync()));
    if (this.current.some((g) => g[0]! < 0)) {
      const costs = batchCosts();
      this.solve(costs.map((c) => c.dataSync()), images);
      tf.dispose(costs);
      this.current = this.matches.map((m) => Int32Array.from(m.dataSync()));
    }
    return this.current;
  }

  /** Keeps a batch's costs (tensors owned from here on) until afterStep adds them. */
  track(costs: tf.Tensor2D[], images: number): void {
    this.dropPending();
    this.pending = { costs: costs.map((c) => tf.keep(c)), images };
  }

  afterStep(): void {
    const p = this.pending;
    if (!p) return;
    tf.tidy(() => {
      this.costs.forEach((c, i) => c.assign(tf.add(c, p.costs[i]!)));
      this.images.assign(tf.add(this.images, p.images));
    });
    this.dropPending();
  }

  dispose(): void {
    this.dropPending();
    tf.dispose([...this.costs, ...this.matches, this.images]);
  }

  private solve(costs: ArrayLike<number>[], images: number): void {
    this.shapes.forEach(({ sc, tc }, i) => {
      const mean = Float64Array.from(costs[i]!, (v) => v / images);
      const guided = matchChannels(mean, sc, tc, this.reducer);
      tf.tidy(() => this.matches[i]!.assign(tf.tensor1d(Float32Array.from(guided))));
    });
  }

  private dropPending(): void {
    if (this.pending) tf.dispose(this.pending.costs);
    this.pending = null;
  }
}

/** The stage taps MGD distils (stem excluded), checked pairwise; throws a sentence naming the problem. */
function stagePlan(studentShapes: readonly FeatureShape[], teacherShapes: readonly FeatureShape[], reducer: MgdReducer) {
  const s = stageShapes(studentShapes).slice(1);
  const t = stageShapes(teacherShapes).slice(1);
  if (s.length !== t.length) throw new Error(`mgd: student and teacher have different numbers of stages (${s.length} vs ${t.length})`);
  return s.map((ss, i) => {
    const ts = t[i]!;
    if (ss.height !== ts.height || ss.width !== ts.width) {
      throw new Error(`mgd: stage ${i + 1} is ${ss.height}x${ss.width} in the student and ${ts.height}x${ts.width} in the teacher; MGD matches channels of equal-sized maps`);
    }
    if (ss.channels > ts.channels) {
      throw new Error(`mgd: stage ${i + 1} has more student channels (${ss.channels}) than teacher channels (${ts.channels}); ${reducer} gives every student channel its own teacher channels`);
    }
    return { sc: ss.channels, tc: ts.channels };
  });
}

/** The margins of each distilled stage from the teacher's pre-ReLU batch norms. */
function teacherMargins(teacher: Model, stages: number): Float32Array[] {
  if (!teacher.preReluNorms) {
    throw new Error(`mgd: the teacher '${teacher.id}' does not name the batch norms before its stage ReLUs, from which MGD takes its margins (ResNets, plain CNNs and WRNs do)`);
  }
  const norms = teacher.preReluNorms().slice(1);
  return Array.from({ length: stages }, (_, i) => {
    const bn = norms[i];
    if (!bn) throw new Error(`mgd: the teacher '${teacher.id}' has no batch norm before the ReLU of stage ${i + 1}`);
    return bnMargins(bn.gamma.dataSync(), bn.beta.dataSync());
  });
}

function checkHyper(hp: { reducer: string; updateFreq: number; lossFactor: number; kd: number; T: number }): MgdReducer {
  if (!(MGD_REDUCERS as readonly string[]).includes(hp.reducer)) throw new Error(`mgd: reducer must be one of ${MGD_REDUCERS.join(', ')}, got '${hp.reducer}'`);
  if (!(Number.isInteger(hp.updateFreq) && hp.updateFreq >= 1)) throw new Error(`mgd: updateFreq must be a positive integer (epochs), got ${hp.updateFreq}`);
  if (!(Number.isFinite(hp.lossFactor) && hp.lossFactor > 0)) throw new Error(`mgd: lossFactor must be a positive number, got ${hp.lossFactor}`);
  if (!(Number.isFinite(hp.kd) && hp.kd >= 0)) throw new Error(`mgd: kd must be a non-negative number, got ${hp.kd}`);
  if (!(Number.isFinite(hp.T) && hp.T > 0)) throw new Error(`mgd: T must be a positive number, got ${hp.T}`);
  return hp.reducer as MgdReducer;
}

export const mgd = defineMethod({
  id: 'mgd',
  title: 'Matching guided distillation (channel assignment)',
  paper: {
    authors: 'K. Yue, J. Deng, F. Zhou',
    title: 'Matching Guided Distillation',
    venue: 'ECCV',
    year: 2020,
    url: 'https://arxiv.org/abs/2008.09958',
  },
  family: 'feature',
  knowledge: 'feature',
  scheme: 'offline',
  teacher: 'required',
  defaults: { reducer: 'amp' as string, updateFreq: 2, lossFactor: 1000, kd: 0, T: 1.5 },
  hyperChoices: { reducer: MGD_REDUCERS },
  hyperDocs: {
    reducer: "how the G matched teacher channels become one: 'amp' largest magnitude, 'sp' maximum, 'rd' random, 'sm' one channel (sparse matching)",
    updateFreq: 'epochs between two updates of the matching',
    lossFactor: 'the distillation loss (summed, per image) is divided by this (overhaul CIFAR: 1000)',
    kd: "weight of an added KD term (MGD's --mgd-with-kd; 0 = off)",
    T: 'temperature of the added KD term',
  },
  smallHyper: { updateFreq: 1 },
  deviations:
    'The matching comes from the training batches instead of a separate pass: the authors solve it before the first epoch and ' +
    'after every updateFreq-th epoch from an eval-mode pass over about 20k un-augmented training images; here the costs are ' +
    'summed over the batches of the epoch that ends before each update (augmented images, the student in training mode, the ' +
    "loss's own forward pass), and the first matching is solved from the first training batch. Costs are solved as floats " +
    '(OR-tools rounds 1e5 x cost down to integers), so ties may pick another, equally cheap matching. MGD publishes no CIFAR ' +
    "recipe: the reducer (amp), update frequency (2), loss factor (1000, overhaul's CIFAR value) and no KD are choices for the " +
    "survey's WRN-28-4 -> WRN-28-2 row, and the loss is divided by the protocol's batch size as MGD divides by its own.",
  create: ({ hp, teacher, studentShapes, teacherShapes, rng, batchSize }) => {
    const reducer = checkHyper(hp);
    const plan = stagePlan(studentShapes, teacherShapes, reducer);
    const margins = teacherMargins(teacher, plan.length);
    const studentNorms = new StudentNorms(plan.map((p) => p.sc), moduleSeed(rng, 'mgd.studentNorms'));
    const matching = new ChannelMatching(plan, reducer, hp.updateFreq);
    const n = plan.length;
    return {
      parts: { studentNorms, matching },
      losses: (io) => {
        const sTaps = io.student.features.slice(1).map((f) => f.pre);
        const tTaps = io.teacher.features.slice(1).map((f) => f.pre);
        const images = io.ids.length;
        const batchCosts = () => sTaps.map((s, i) => channelCosts(s, tTaps[i]!));
        const guided = matching.guided(batchCosts, images);
        if (matching.tracks(io.epoch)) matching.track(batchCosts(), images);
        const draws = reducer === 'rd' ? rng.fork(`mgd.rd:${io.stage}:${io.epoch}:${io.step}`) : undefined;
        const stageLosses = sTaps.map((s, i) => {
          const { target, margin } = reduceTeacher(tTaps[i]!, margins[i]!, guided[i]!, plan[i]!.sc, reducer, draws);
          return tf.div(partialL2(studentNorms.norms[i]!.apply(s, true), target, margin), 2 ** (n - 1 - i));
        });
        const terms: Record<string, tf.Scalar> = {
          ce: crossEntropy(io.student.logits, io.labels),
          mgd: tf.div(tf.addN(stageLosses), batchSize * hp.lossFactor) as tf.Scalar,
        };
        if (hp.kd > 0) terms.kd = tf.mul(softTargetKL(io.student.logits, io.teacher.logits, hp.T), hp.kd) as tf.Scalar;
        return terms;
      },
    };
  },
});
