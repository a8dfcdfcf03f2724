/**
 * The contract's procedure hooks, through the real trainer on real CIFAR-10 records: players with
 * their own optimiser, data-free and label-free access rules, companions, stage subsets / schedules /
 * evaluation / onEnd records, a method schedule, extra networks, exact resume with all of these, and probes.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng, tf } from '@kdbench/engine';
import type { RunSplits } from '@kdbench/data';
import { smallCifar10 } from './small-splits.js';
import { createModel, type Model } from '@kdbench/models';
import { train, type TrainSpec } from '../src/training/trainer.js';
import { DataAccessError } from '../src/training/step-io.js';
import { getProtocol, withOverrides } from '../src/protocols.js';
import { methodContext } from '../src/method-context.js';
import { crossEntropy } from '../src/losses/kl.js';
import type { MethodInstance, Player, StepIO, TrainableModule } from '../src/method.js';
import { sameRows } from '../src/companions.js';
import { evaluate } from '../src/training/evaluate.js';
import { MovingAverage, movingAverageDecay, pairByName } from '../src/modules/moving-average.js';

let splits: RunSplits;
const protocol = withOverrides(getProtocol('smoke'), { epochs: 2, batchSize: 20, widthFactor: 0.25 });

beforeAll(async () => {
  splits = await smallCifar10(4, 2);
});

const net = (seed: number) => createModel('resnet8', { numClasses: 10, seed, widthFactor: 0.25 });
const ce = (io: StepIO) => ({ ce: crossEntropy(io.student.logits, io.labels) });
const spec = (student: Model, method: MethodInstance, over: Partial<TrainSpec> = {}): TrainSpec => ({
  dataset: 'cifar10', splits, protocol, lr: 0.05, seed: 3, student, method, ...over,
});
const snapshot = (vars: tf.Variable[]) => vars.map((v) => Array.from(v.dataSync()));

/** A 10-way linear probe on the student's embedding: a trainable module for a player. */
function linearModule(inDim: number, seed: number): TrainableModule & { w: tf.Variable } {
  const w = tf.variable(tf.randomNormal([inDim, 10], 0, 0.1, 'float32', seed));
  return { w, trainableVariables: () => [w], dispose: () => w.dispose() };
}

describe('players', () => {
  it('steps each player with its own optimiser before the student, logs its terms under its name, and moves both', () => {
    const student = net(1);
    const probe = linearModule(student.featureShapes().at(-1)!.channels, 2);
    const player: Player = {
      name: 'critic',
      optimizer: { kind: 'adam', lr: 0.01, beta1: 0.5, beta2: 0.999 },
      variables: () => [probe.w],
      losses: (io) => ({ fit: crossEntropy(tf.matMul(io.student.embedding, probe.w) as tf.Tensor2D, io.labels) }),
    };
    const before = snapshot([probe.w, ...student.trainableVariables()]);
    const counts: number[] = [];
    const r = train(spec(student, { parts: { probe }, procedure: { players: [player] }, losses: ce }, {
      onEvent: (e) => { if (e.type === 'epoch') counts.push(tf.memory().numTensors); },
    }));
    const after = snapshot([probe.w, ...student.trainableVariables()]);
    after.forEach((w, i) => expect(w).not.toEqual(before[i]));
    expect(Object.keys(r.history[0]!.losses).sort()).toEqual(['ce', 'critic/fit', 'total']);
    expect(r.history[0]!.losses.total).toBeCloseTo(r.history[0]!.losses.ce!, 5); // total: the student's terms only
    expect(counts[1]).toBe(counts[0]);
    probe.dispose();
    student.dispose();
  });
});

describe('player schedule', () => {
  it('a player with every = k plays on batches 0, k, 2k, ... of each epoch; a bad value is refused', () => {
    const student = net(1);
    const played: number[] = [];
    const w = tf.variable(tf.zeros([1]));
    const player: Player = {
      name: 'g', optimizer: { kind: 'sgd', lr: 0.1, momentum: 0, weightDecay: 0 }, every: 3, variables: () => [w],
      losses: (io) => { played.push(io.step); return { pull: tf.sum(tf.square(tf.sub(w, 1))) as tf.Scalar }; },
    };
    const steps: number[] = [];
    // batches of 4 over 40 rows: 10 steps per epoch
    const small = withOverrides(protocol, { batchSize: 4 });
    train(spec(student, { procedure: { players: [player] }, losses: ce }, { protocol: small, onEvent: (e) => { if (e.type === 'step' && e.epoch === 0) steps.push(e.step); } }));
    const perEpoch = steps.length;
    expect(perEpoch).toBeGreaterThan(3);
    const expected = Array.from({ length: perEpoch }, (_, i) => i).filter((i) => i % 3 === 0);
    expect(played).toEqual([...expected, ...expected]); // both epochs
    expect(() => train(spec(student, { procedure: { players: [{ ...player, every: 0 }] }, losses: ce }))).toThrow(/every must be a positive integer/);
    w.dispose();
    student.dispose();
  });
});

describe('data access rules', () => {
  it("data 'none': batches come from syntheticBatch, and reading labels throws a DataAccessError", () => {
    const student = net(1);
    const seen: number[] = [];
    const syntheticBatch = (size: number, epoch: number, step: number) => {
      seen.push(size);
      return tf.randomNormal([size, 32, 32, 3], 0, 1, 'float32', epoch * 100 + step) as tf.Tensor4D;
    };
    const method: MethodInstance = { procedure: { syntheticBatch }, losses: (io) => ({ l2: tf.mean(tf.square(io.student.logits)) as tf.Scalar }) };
    train(spec(student, method, { data: 'none' }));
    expect(seen).toEqual([20, 20, 20, 20]); // 40 records' worth of steps per epoch, 2 epochs
    expect(() => train(spec(student, { procedure: { syntheticBatch }, losses: ce }, { data: 'none' }))).toThrow(DataAccessError);
    expect(() => train(spec(student, { losses: ce }, { data: 'none' }))).toThrow(/syntheticBatch/);
    student.dispose();
  });

  it("data 'unlabeled': images are readable, labels are not; the context hides labels too", () => {
    const student = net(1);
    expect(() => train(spec(student, { losses: ce }, { data: 'unlabeled' }))).toThrow(/may not read the labels/);
    const ctx = methodContext({ hp: {}, numClasses: 10, student, train: splits.train, epochs: 1, batchSize: 20, rng: new Rng(0), data: 'unlabeled' });
    expect(() => ctx.trainLabels).toThrow(/labels/);
    expect(ctx.trainIds.length).toBe(40);
    const none = methodContext({ hp: {}, numClasses: 10, student, train: splits.train, epochs: 1, batchSize: 20, rng: new Rng(0), data: 'none' });
    expect(() => none.trainIds).toThrow(/record ids/);
    student.dispose();
  });
});

describe('companions', () => {
  it('serves one partner per row, augmented, with the rows the method asked for', () => {
    const student = net(1);
    const byClass = new Map<number, number[]>();
    splits.train.labels.forEach((c, row) => byClass.set(c, [...(byClass.get(c) ?? []), row]));
    const idToRow = new Map(Array.from(splits.train.ids, (id, row) => [id, row]));
    let checked = 0;
    const method: MethodInstance = {
      procedure: { companions: (ids, labels) => Int32Array.from(ids, (id, i) => byClass.get(labels[i]!)!.find((r) => r !== idToRow.get(id))!) },
      losses: (io) => {
        const c = io.companion!;
        expect(Array.from(c.labels.dataSync())).toEqual(Array.from(io.labels.dataSync()));
        expect(Array.from(c.ids).some((id, i) => id === io.ids[i])).toBe(false);
        checked++;
        return ce(io);
      },
    };
    train(spec(student, method));
    expect(checked).toBe(4);
    student.dispose();
  });

  it('serves several sets in order as io.companions; a set of the rows themselves is another augmented view of the batch', () => {
    const student = net(1);
    let checked = 0;
    const method: MethodInstance = {
      procedure: { companions: sameRows(splits.train.ids, 2) },
      losses: (io) => {
        const [a, b] = io.companions!;
        expect(io.companions!.length).toBe(2);
        expect(io.companion).toBe(a);
        for (const c of [a!, b!]) {
          expect(Array.from(c.ids)).toEqual(Array.from(io.ids));
          expect(Array.from(c.labels.dataSync())).toEqual(Array.from(io.labels.dataSync()));
        }
        // independent crops and flips of the same images: the three views differ
        const differ = (u: tf.Tensor, v: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(u, v))).dataSync()[0]!) > 0;
        expect(differ(a!.x, io.x) && differ(b!.x, io.x) && differ(a!.x, b!.x)).toBe(true);
        checked++;
        return ce(io);
      },
    };
    const counts: number[] = [];
    train(spec(student, method, { onEvent: (e) => { if (e.type === 'epoch') counts.push(tf.memory().numTensors); } }));
    expect(checked).toBe(4);
    expect(counts[1]).toBe(counts[0]);
    student.dispose();
  });

  it('a hook returning one row array and one returning [that array] are served identically', () => {
    const seen = (hook: NonNullable<MethodInstance['procedure']>['companions']) => {
      const student = net(1);
      const firsts: number[][] = [];
      train(spec(student, { procedure: { companions: hook }, losses: (io) => { firsts.push(Array.from(io.companion!.x.dataSync().slice(0, 50))); return ce(io); } }));
      student.dispose();
      return firsts;
    };
    const rows = sameRows(splits.train.ids, 1);
    expect(seen((ids) => rows(ids)[0]!)).toEqual(seen(rows));
  });

  it('refuses a hook whose sets do not match the batch, and ids outside the split', () => {
    const student = net(1);
    expect(() => train(spec(student, { procedure: { companions: (ids) => [ids, ids.slice(1)] }, losses: ce }))).toThrow(/set 1 for a batch of 20/);
    expect(() => train(spec(student, { procedure: { companions: () => [] }, losses: ce }))).toThrow(/no row arrays/);
    expect(() => sameRows(Int32Array.from([5, 6]), 1)(Int32Array.from([7]))).toThrow(/record 7 is not in the training split/);
    expect(() => sameRows(Int32Array.from([5, 6]), 0)).toThrow(/count must be a positive integer/);
    student.dispose();
  });
});

describe('deployed', () => {
  it('scores the deployed network as the student (best and last) while the student trains', () => {
    const student = net(1);
    const shadow = net(9);
    const before = snapshot(shadow.trainableVariables());
    const method: MethodInstance = { procedure: { networks: { shadow: { model: shadow, trainInMain: false } }, deployed: shadow }, losses: ce };
    const r = train(spec(student, method));
    expect(snapshot(shadow.trainableVariables())).toEqual(before); // not trained
    const own = evaluate(shadow, splits.evaluation, 'cifar10');
    expect(r.last).toEqual(own);
    expect(r.history.map((h) => h.eval)).toEqual([own, own]);
    shadow.dispose();
    student.dispose();
  });
});

describe('moving average', () => {
  it('averages with alpha_t = min(1 - 1/(t+1), decay): a copy first, then the running mean, then the capped decay', () => {
    // sources 1, 2, 3 after updates 0, 1, 2: 1, then 0.5*1 + 0.5*2 = 1.5, then (2/3)*1.5 + (1/3)*3 = 2.0;
    // with decay 0.5, update 2 uses alpha 0.5: 0.5*1.5 + 0.5*3 = 2.25
    const run = (decay: number) => {
      const v = tf.variable(tf.scalar(1));
      const a = tf.variable(tf.scalar(-7));
      const ema = new MovingAverage('m', [[v, a]], decay);
      const out: number[] = [];
      for (const x of [1, 2, 3]) {
        v.assign(tf.scalar(x));
        ema.afterStep();
        out.push(a.dataSync()[0]!);
      }
      expect(ema.updates).toBe(3);
      expect(Object.keys(ema.buffers())).toEqual(['m/updates']);
      [v, a].forEach((t) => t.dispose());
      ema.dispose();
      return out;
    };
    expect(run(0.999).map((x) => Number(x.toFixed(6)))).toEqual([1, 1.5, 2]);
    expect(run(0.5).map((x) => Number(x.toFixed(6)))).toEqual([1, 1.5, 2.25]);
    expect(movingAverageDecay(0, 0.999)).toBe(0);
    expect(movingAverageDecay(5000, 0.999)).toBe(0.999);
    expect(() => new MovingAverage('m', [], 0.9)).toThrow(/no variables/);
    expect(() => new MovingAverage('m', [], 1)).toThrow(/decay must be in \[0, 1\)/);
  });

  it('pairs variables by name, refuses a missing one, and leaks nothing per update', () => {
    const a = net(1);
    const b = net(2);
    const pairs = pairByName(a.namedVariables(), b.namedVariables());
    expect(pairs.length).toBe(a.trainableVariables().length);
    expect(() => pairByName(a.namedVariables(), b.namedVariables().slice(1))).toThrow(/no variable 'conv1.weight'/);
    const ema = new MovingAverage('m', pairs, 0.99);
    ema.afterStep();
    const before = tf.memory().numTensors;
    ema.afterStep();
    ema.afterStep();
    expect(tf.memory().numTensors).toBe(before);
    // a = v at every update (the first copies, later ones average equal values): equal up to rounding
    const gap = Math.max(...snapshot(b.trainableVariables()).flatMap((w, i) => w.map((x, k) => Math.abs(x - snapshot(a.trainableVariables())[i]![k]!))));
    expect(gap).toBeLessThan(1e-6);
    ema.dispose();
    [a, b].forEach((m) => m.dispose());
  });
});

describe('stages', () => {
  it('trains a stage on its rows with the schedule, evaluates its network, and gives its end hook evaluation and embeddings', () => {
    const student = net(1);
    const rows = Int32Array.from({ length: 40 }, (_, i) => i).filter((r) => splits.train.labels[r]! < 2);
    const seenIds = new Set<number>();
    const records: number[] = [];
    const method: MethodInstance = {
      procedure: { stages: [{
        name: 'task1', epochs: 2, schedule: true, rows: () => rows, evaluate: student,
        variables: () => student.trainableVariables(),
        losses: (io) => { io.ids.forEach((id) => seenIds.add(id)); return ce(io); },
        onEnd: (tools) => {
          const acc = tools.evaluate(student, { classes: [0, 1] });
          records.push(acc.top1);
          expect(tools.embed(student, rows.slice(0, 3)).length).toBe(3 * student.featureShapes().at(-1)!.channels);
        },
      }] },
      losses: ce,
    };
    const r = train(spec(student, method, { protocol: { ...protocol, schedule: { kind: 'cosine' } as never } }));
    expect([...seenIds].sort()).toEqual(Array.from(rows, (row) => splits.train.ids[row]!).sort());
    expect(r.history.filter((h) => h.stage === 'task1').every((h) => h.eval !== undefined)).toBe(true);
    expect(records).toHaveLength(1);
    expect(records[0]).toBeGreaterThanOrEqual(0);
    student.dispose();
  });

  it('trains the main stage on its rows too, and calls its onEnd after the last epoch', () => {
    const student = net(1);
    const rows = Int32Array.from({ length: 40 }, (_, i) => i).filter((r) => splits.train.labels[r]! >= 8);
    const seen = new Set<number>();
    let ended = 0;
    train(spec(student, {
      procedure: { main: { rows: () => rows, onEnd: () => { ended++; } } },
      losses: (io) => { io.ids.forEach((id) => seen.add(id)); return ce(io); },
    }));
    expect([...seen].sort()).toEqual(Array.from(rows, (row) => splits.train.ids[row]!).sort());
    expect(ended).toBe(1);
    student.dispose();
  });

  it("uses the method's learning-rate schedule in the main stage", () => {
    const student = net(1);
    const r = train(spec(student, { procedure: { main: { schedule: (base, epoch) => base * (epoch + 1) * 0.5 } }, losses: ce }));
    expect(r.history.map((h) => h.lr)).toEqual([0.025, 0.05]);
    student.dispose();
  });
});

describe('networks and resume', () => {
  /** Two peers (DML-style) with an Adam player: resumed after epoch 1 equals uninterrupted. */
  function run(seed: number, file?: string, failAt?: number) {
    const student = net(seed);
    const peer = net(seed + 50);
    const probe = linearModule(student.featureShapes().at(-1)!.channels, 2);
    const method: MethodInstance = {
      parts: { probe, killer: { onEpochStart: (e) => { if (e === failAt) throw new Error('killed'); } } },
      procedure: {
        networks: { peer: { model: peer, trainInMain: true } },
        players: [{
          name: 'critic', optimizer: { kind: 'adam', lr: 0.01, beta1: 0.9, beta2: 0.999 }, variables: () => [probe.w],
          losses: (io) => ({ fit: crossEntropy(tf.matMul(io.student.embedding, probe.w) as tf.Tensor2D, io.labels) }),
        }],
      },
      losses: (io) => ({ ce: crossEntropy(io.student.logits, io.labels), peer: crossEntropy(peer.forward(io.x, { training: true }).logits, io.labels) }),
    };
    const before = snapshot(peer.trainableVariables());
    try {
      const r = train(spec(student, method, { checkpointFile: file }));
      return { r, weights: snapshot([...student.trainableVariables(), ...peer.namedVariables().map((n) => n.variable), probe.w]), peerMoved: snapshot(peer.trainableVariables()).every((w, i) => w.join() !== before[i]!.join()) };
    } finally {
      student.dispose();
      peer.dispose();
      probe.dispose();
    }
  }

  it('trains networks marked trainInMain and resumes a killed run to the same weights and losses', () => {
    const straight = run(4);
    expect(straight.peerMoved).toBe(true);
    const file = join(mkdtempSync(join(tmpdir(), 'kdb-proc-')), 'ckpt.kdbt');
    expect(() => run(4, file, 1)).toThrow('killed');
    const resumed = run(4, file);
    expect(resumed.r.resumedFromEpoch).toBe(1);
    expect(resumed.r.history.map((h) => h.losses)).toEqual(straight.r.history.map((h) => h.losses));
    expect(resumed.weights).toEqual(straight.weights);
  });
});

describe('resume at a stage boundary', () => {
  function run(file?: string, killInMain = false) {
    const student = net(6);
    let killed = !killInMain;
    const method: MethodInstance = {
      procedure: { stages: [{ name: 'warm', epochs: 1, variables: () => student.trainableVariables(), losses: ce }] },
      losses: (io) => {
        if (!killed) { killed = true; throw new Error('killed'); }
        return ce(io);
      },
    };
    try {
      const r = train(spec(student, method, { checkpointFile: file }));
      return { r, weights: snapshot(student.trainableVariables()) };
    } finally {
      student.dispose();
    }
  }

  it('resumes a run killed right after a stage ended exactly as if it had not stopped (fresh momentum for the next stage)', () => {
    const straight = run();
    const file = join(mkdtempSync(join(tmpdir(), 'kdb-boundary-')), 'ckpt.kdbt');
    expect(() => run(file, true)).toThrow('killed');
    const resumed = run(file);
    expect(resumed.r.resumedFromEpoch).toBe(1);
    expect(resumed.weights).toEqual(straight.weights);
  });
});

describe('probe and createNetwork', () => {
  it('builds seeded networks of the student architecture and scores a short training on held-out training rows', () => {
    const student = net(1);
    const ctx = methodContext({
      hp: {}, numClasses: 10, student, train: splits.train, epochs: 2, batchSize: 20, rng: new Rng(5),
      probe: { dataset: 'cifar10', protocol, seed: 1, lr: 0.05 },
    });
    const a = ctx.createNetwork('peer');
    const b = methodContext({ hp: {}, numClasses: 10, student, train: splits.train, epochs: 2, batchSize: 20, rng: new Rng(5) }).createNetwork('peer');
    expect(a.id).toBe('resnet8');
    expect(snapshot(a.trainableVariables())).toEqual(snapshot(b.trainableVariables()));
    const trainRows = Int32Array.from({ length: 30 }, (_, i) => i);
    const validationRows = Int32Array.from({ length: 10 }, (_, i) => 30 + i);
    const score = ctx.probe(a, { epochs: 1, trainRows, validationRows, losses: ce });
    expect(score.top1).toBeGreaterThanOrEqual(0);
    expect(score.top1).toBeLessThanOrEqual(100);
    expect((score.top1 * 10) / 100).toBeCloseTo(Math.round((score.top1 * 10) / 100), 6); // a multiple of 1/10 records
    expect(() => ctx.probe(a, { epochs: 1, trainRows, validationRows: trainRows, losses: ce })).toThrow(/overlap/);
    [a, b, student].forEach((m) => m.dispose());
  });

  it('builds a network sharing variables with another by name, trained and checkpointed once, freed by its owner only', () => {
    const student = createModel('wrn_16_1', { numClasses: 10, seed: 1, widthFactor: 0.25 });
    const ctx = methodContext({ hp: {}, numClasses: 10, student, train: splits.train, epochs: 2, batchSize: 20, rng: new Rng(5) });
    const convs = student.namedVariables().filter((nv) => nv.variable.rank === 4);
    const deep = ctx.createNetwork('booster', { model: 'wrn_40_1', shared: convs });
    const deepVars = new Set(deep.trainableVariables());
    expect(convs.every((nv) => deepVars.has(nv.variable))).toBe(true);
    const file = join(mkdtempSync(join(tmpdir(), 'kdb-shared-')), 'ckpt.kdbt');
    const method: MethodInstance = {
      procedure: { networks: { booster: { model: deep, trainInMain: true } } },
      losses: (io) => ({ ce: crossEntropy(io.student.logits, io.labels), booster: crossEntropy(deep.forward(io.x, { training: true }).logits, io.labels) }),
    };
    const r = train(spec(student, method, { checkpointFile: file }));
    expect(r.history.length).toBe(2);
    deep.dispose();
    expect(convs.every((nv) => !nv.variable.isDisposed)).toBe(true); // still the student's
    student.dispose();
  });
});
