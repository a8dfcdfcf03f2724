/**
 * The conformance kit: the checks every registered method passes (packages/harness/test/
 * conformance.test.ts runs them over the whole registry), usable by a method author on one method:
 *
 *   import { loadConformanceSplits, metadataFindings, trainingFindings } from '@kdbench/core/testing';
 *   const splits = await loadConformanceSplits();           // 40 real CIFAR-10 images, 20 eval
 *   expect(metadataFindings(mymethod)).toEqual([]);
 *   expect(trainingFindings(mymethod, { splits })).toEqual([]);   // engine initialised first (wasm)
 *
 * or, in a vitest file, `describeConformance([mymethod])` from '@kdbench/core/testing/vitest', which
 * initialises the engine, loads the splits and declares both checks per method.
 *
 * The training check runs two steps per stage (40 images in batches of 20, 2 epochs) with a resnet8
 * student (and a resnet14 teacher when the method needs one, plus its extra teachers), widths x0.25,
 * the method's `smallHyper` over its defaults, and reports: non-finite losses, parts (student, every
 * declared module, network and player) whose variables did not all move, a tensor count
 * that grows between the last two epochs, and a run that does not repeat itself under the same seed.
 * Each finding is one readable line; no finding means the method conforms.
 */
import { loadCifar, makeRunSplits, resolveDataDir, type RunSplits } from '@kdbench/data';
import { initEngine, Rng, sha256Hex, tf, type BackendRequest } from '@kdbench/engine';
import { createModel } from '@kdbench/models';
import { PartSet, getProtocol, methodContext, train, withOverrides, type MethodDefinition, type TrainResult } from '../index.js';

/** 40 images in batches of 20: two steps per epoch, two epochs. */
export const CONFORMANCE_PROTOCOL = withOverrides(getProtocol('smoke'), { epochs: 2, batchSize: 20, widthFactor: 0.25 });

/** Metadata problems: title, paper (url, year) for every method but the label-only baseline, knowledge, scheme, hyperDocs. */
export function metadataFindings(def: MethodDefinition<any>): string[] {
  const out: string[] = [];
  if (!(typeof def.title === 'string' && def.title.length > 3)) out.push(`${def.id}: title "${def.title}" is too short`);
  if (!/^[a-z][a-z0-9]*$/.test(def.id)) out.push(`${def.id}: id is not a lowercase method id`);
  if (def.id !== 'vanilla') {
    if (!/^https:\/\//.test(def.paper?.url ?? '')) out.push(`${def.id}: paper.url "${def.paper?.url ?? ''}" is not an https link`);
    if (!((def.paper?.year ?? 0) > 2010)) out.push(`${def.id}: paper.year ${def.paper?.year} is not a year after 2010`);
  }
  if (!['offline', 'online', 'self'].includes(def.scheme)) out.push(`${def.id}: scheme "${def.scheme}" is not offline, online or self`);
  if (!['response', 'feature', 'relation', 'none'].includes(def.knowledge)) out.push(`${def.id}: knowledge "${def.knowledge}" is not response, feature, relation or none`);
  for (const k of Object.keys(def.defaults)) {
    if (!(def.hyperDocs as Record<string, string>)[k]) out.push(`${def.id}: hyperparameter ${k} has no hyperDocs line`);
  }
  return out;
}

export interface ConformanceRun {
  result: TrainResult;
  /** Per trainable part: how many of its variables changed. */
  moved: { name: string; changed: number; total: number }[];
  /** Tensor count after each epoch. */
  counts: number[];
  /** Logged loss terms per epoch. */
  losses: Record<string, number>[];
  /** Per trainable part: sha256 of its variables' float32 values after training (a fingerprint of the run). */
  weights: Record<string, string>;
}

/** One two-step-per-stage training of the method on the given splits (CIFAR-10, 10 classes). */
export function conformanceRun(def: MethodDefinition<any>, splits: RunSplits, seed: number): ConformanceRun {
  const protocol = CONFORMANCE_PROTOCOL;
  const hp = { ...def.defaults, ...(def.smallHyper ?? {}) };
  const student = createModel('resnet8', { numClasses: 10, seed, widthFactor: 0.25 });
  const teacher = def.teacher === 'required' ? createModel('resnet14', { numClasses: 10, seed: 100, widthFactor: 0.25 }) : undefined;
  const teachers = (def.extraTeachers?.(hp, 'resnet14') ?? []).map((t) => createModel(t.model, { numClasses: 10, seed: 100 + t.seed, widthFactor: 0.25 }));
  const method = def.create(methodContext({
    hp, numClasses: 10, student, teacher, teachers, train: splits.train, epochs: protocol.epochs,
    batchSize: protocol.batchSize, rng: new Rng(seed), data: def.data,
    probe: { dataset: 'cifar10', protocol, seed, lr: 0.05 },
  }));
  const owned = new PartSet(method, student);
  try {
    const trained = owned.student;
    const parts: [string, tf.Variable[]][] = [
      ['student', trained.trainableVariables()],
      ...owned.parts.filter(([, p]) => p.trainableVariables).map(([k, p]) => [`module ${k}`, p.trainableVariables!()] as [string, tf.Variable[]]),
      ...owned.networks.map(([k, n]) => [`network ${k}`, n.model.trainableVariables()] as [string, tf.Variable[]]),
      ...owned.players.map((p) => [`player ${p.name}`, p.variables()] as [string, tf.Variable[]]),
    ];
    const before = parts.map(([, vars]) => vars.map((v) => v.dataSync().slice()));
    const counts: number[] = [];
    const result = train({
      dataset: 'cifar10', splits, protocol, lr: 0.05, seed, student, teacher, teachers, method, data: def.data,
      onEvent: (e) => { if (e.type === 'epoch') counts.push(tf.memory().numTensors); },
    });
    const moved = parts.map(([name, vars], i) => ({
      name, changed: vars.filter((v, j) => v.dataSync().some((x, k) => x !== before[i]![j]![k])).length, total: vars.length,
    }));
    // every variable, batch-norm statistics included, of the student and the networks; trained variables of the rest
    const all = (m: { namedVariables(): { variable: tf.Variable }[] }) => m.namedVariables().map((nv) => nv.variable);
    const weights = Object.fromEntries([
      ['student', weightsHash(all(trained))],
      ...owned.networks.map(([k, n]) => [`network ${k}`, weightsHash(all(n.model))]),
      ...parts.filter(([name]) => !name.startsWith('network ') && name !== 'student').map(([name, vars]) => [name, weightsHash(vars)]),
    ]);
    return { result, moved, counts, losses: result.history.map((h) => h.losses), weights };
  } finally {
    owned.dispose();
    student.dispose();
    teacher?.dispose();
    teachers.forEach((t) => t.dispose());
  }
}

/** sha256 of the variables' float32 values, in order. */
function weightsHash(vars: tf.Variable[]): string {
  const parts = vars.map((v) => new Uint8Array((v.dataSync() as Float32Array).slice().buffer));
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((o, p) => (all.set(p, o), o + p.length), 0);
  return sha256Hex(all);
}

/** Training problems of the method: finite losses, every part moves, no leaks, seeded (two runs). */
export function trainingFindings(def: MethodDefinition<any>, opts: { splits: RunSplits; seed?: number }): string[] {
  const seed = opts.seed ?? 7;
  const out: string[] = [];
  let a: ConformanceRun;
  try {
    a = conformanceRun(def, opts.splits, seed);
  } catch (e) {
    return [`${def.id}: training threw: ${(e as Error).message}`];
  }
  a.losses.forEach((epoch, i) => {
    for (const [k, v] of Object.entries(epoch)) if (!Number.isFinite(v)) out.push(`${def.id}: loss ${k} of epoch ${i} is ${v}`);
  });
  for (const m of a.moved) if (m.changed !== m.total) out.push(`${def.id}: ${m.name}: ${m.changed}/${m.total} variables changed`);
  // flat across the last two epochs (stage set-up may allocate once)
  if (a.counts.at(-1) !== a.counts.at(-2)) out.push(`${def.id}: tensor count grew from ${a.counts.at(-2)} to ${a.counts.at(-1)} between the last two epochs`);
  const b = conformanceRun(def, opts.splits, seed);
  if (JSON.stringify(b.losses) !== JSON.stringify(a.losses)) out.push(`${def.id}: losses differ between two runs with seed ${seed}`);
  if (JSON.stringify(b.result.last) !== JSON.stringify(a.result.last)) out.push(`${def.id}: final accuracy differs between two runs with seed ${seed}`);
  return out;
}

/** The conformance splits: CIFAR-10, 4 training and 2 evaluation images per class, seed 0. */
export async function loadConformanceSplits(dataDir?: string): Promise<RunSplits> {
  const dir = dataDir ?? process.env['KDBENCH_DATA_DIR'] ?? resolveDataDir();
  return makeRunSplits(await loadCifar('cifar10', { dataDir: dir }), { seed: 0, trainPerClass: 4, evalPerClass: 2 });
}

/** Every check and its findings for one method (initialises the engine: wasm unless given). */
export async function conformanceChecks(
  def: MethodDefinition<any>, opts: { splits?: RunSplits; dataDir?: string; backend?: BackendRequest; seed?: number } = {},
): Promise<string[]> {
  await initEngine({ backend: opts.backend ?? 'wasm' });
  const splits = opts.splits ?? await loadConformanceSplits(opts.dataDir);
  return [...metadataFindings(def), ...trainingFindings(def, { splits, seed: opts.seed })];
}
