/**
 * One run, end to end: validate the request, pick the backend, load data and splits, get the
 * teacher from the store (training it once if missing), build student and method, train with
 * checkpoints, and append one row to the results file. A run already in the results is skipped;
 * an interrupted one resumes from its checkpoint.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  ConfigError, TeacherStore, disposeInstance, methodContext, getProtocol, protocolForDataset, resolveHyper, studentLearningRate, train, trainingRecipe,
  vanilla, withOverrides, type ExtraTeacher, type MethodDefinition, type MethodInstance, type Protocol, type TeacherEntry, type TeacherSpec, type TrainEvent,
} from '@kdbench/core';
import { loadCifar, makeRunSplits, type CifarData, type DatasetId, type RunSplits } from '@kdbench/data';
import { Rng, initEngine, kernelSetName, lockHolder, lockHolderIsDead, releaseLock, sha256Hex, tryCreateLock, writeFileAtomic, type EngineInfo } from '@kdbench/engine';
import { createModel, modelIdProblem, type Model } from '@kdbench/models';
import { registry } from './registry.js';
import { appendResults, readResults } from './results/arrow-store.js';
import type { ResultRow } from './results/schema.js';
import { gitCommit, pinGitState } from './git.js';
import { runProvenance } from './provenance.js';
import { TeacherLogitsFiles, teacherCacheEnabled } from './teacher-cache.js';
import { checkDataDir, checkRunOutputs } from './output-dirs.js';
import { effectiveLabel } from './protocol-label.js';

export const DATASETS: readonly DatasetId[] = ['cifar10', 'cifar100'];

export interface RunRequest {
  dataset: string;
  method: string;
  student: string;
  teacher?: string;
  protocol: string;
  seed: number;
  /** Seed of the teacher (one teacher per architecture is shared by all student seeds). */
  teacherSeed?: number;
  hp?: Record<string, string>;
  protocolOverrides?: Partial<Protocol>;
  dataDir: string;
  resultsDir: string;
  teachersDir?: string;
  backend?: string;
  /** Serve teacher logits from the teacher-output cache for methods that need only logits (default: on, or $KDBENCH_TEACHER_CACHE). */
  teacherCache?: boolean;
  /** Train even if the run is recorded; its row is replaced (suite --rerun). */
  rerun?: boolean;
  onEvent?: (scope: string, e: TrainEvent) => void;
  log?: (line: string) => void;
}

/** The run is being trained by another live process (two suites on one results folder). */
export class RunBusyError extends Error {}

export interface RunOutcome {
  row: ResultRow;
  skipped: boolean;
}

interface Validated {
  def: MethodDefinition;
  hp: Record<string, string | number | boolean>;
  dataset: DatasetId;
  protocol: Protocol;
  /** Things that run but are probably not what was meant (printed as `warning: ...`). */
  warnings: string[];
}

/** Epoch counts beyond this are almost certainly a typo (the paper protocol trains 240). */
export const MAX_SENSIBLE_EPOCHS = 2400;

/** Warnings about settings that are allowed but almost certainly a mistake. */
export function protocolWarnings(p: Pick<Protocol, 'epochs' | 'teacherEpochs'>): string[] {
  return (['epochs', 'teacherEpochs'] as const).filter((k) => p[k] > MAX_SENSIBLE_EPOCHS)
    .map((k) => `${k}=${p[k]} is more than ${MAX_SENSIBLE_EPOCHS} (the paper protocol trains 240): check the value`);
}

/** A zoo id, optionally with a width multiplier (`resnet20@0.5`: the id, and so the run id, records it). */
function checkModel(role: string, id: string | undefined): void {
  const problem = id === undefined ? null : modelIdProblem(id, role);
  if (problem) throw new ConfigError(problem);
}

/** Dataset and protocol of a request (with overrides), checked; throws ConfigError with the problem. */
function validateSetting(req: Pick<RunRequest, 'dataset' | 'protocol' | 'protocolOverrides'>): { dataset: DatasetId; protocol: Protocol } {
  if (!DATASETS.includes(req.dataset as DatasetId)) {
    throw new ConfigError(`unknown dataset '${req.dataset}'. Known datasets: ${DATASETS.join(', ')}`);
  }
  const dataset = req.dataset as DatasetId;
  const protocol = protocolForDataset(withOverrides(getProtocol(req.protocol), req.protocolOverrides ?? {}), dataset);
  if (!(protocol.epochs >= 1) || !Number.isInteger(protocol.epochs)) throw new ConfigError(`epochs must be a positive integer, got ${protocol.epochs}`);
  if (!(protocol.widthFactor > 0)) throw new ConfigError(`widthFactor must be > 0, got ${protocol.widthFactor}`);
  if (!(protocol.batchSize >= 1)) throw new ConfigError(`batchSize must be >= 1, got ${protocol.batchSize}`);
  if (!(protocol.teacherEpochs >= 1) || !Number.isInteger(protocol.teacherEpochs)) throw new ConfigError(`teacherEpochs must be a positive integer, got ${protocol.teacherEpochs}`);
  return { dataset, protocol };
}

/** Checks a request without touching data or the engine; throws ConfigError with the problem. */
export function validateRequest(req: RunRequest): Validated {
  const def = registry.get(req.method);
  const { dataset, protocol } = validateSetting(req);
  checkModel('student', req.student);
  checkModel('teacher', req.teacher);
  if (def.teacher === 'required' && !req.teacher) throw new ConfigError(`method '${def.id}' needs a teacher: pass --teacher`);
  if (!Number.isInteger(req.seed) || req.seed < 0) throw new ConfigError(`seed must be a non-negative integer, got ${req.seed}`);
  // the smoke protocol runs a method's small budgets (generations, candidates, synthetic steps) unless overridden
  const small = protocol.id === 'smoke' ? Object.fromEntries(Object.entries(def.smallHyper ?? {}).map(([k, v]) => [k, String(v)])) : {};
  const hp = resolveHyper(def, { ...small, ...(req.hp ?? {}) });
  for (const t of extraTeachersOf({ def, hp }, req.teacher)) checkModel(`extra teacher (of '${def.id}')`, t.model);
  const warnings = protocolWarnings(protocol);
  if (def.teacher === 'none' && req.teacher) warnings.push(`method '${def.id}' trains without a teacher: --teacher ${req.teacher} is ignored`);
  return { def, hp, dataset, protocol, warnings };
}

/** A teacher-only request (`kdbench teachers train`, a suite's teacher phase): dataset, protocol, teacher model and seed. */
export interface TeacherRequest extends Omit<RunRequest, 'method' | 'student' | 'seed' | 'hp'> {
  teacher: string;
}

export function validateTeacherRequest(req: TeacherRequest): Validated {
  const { dataset, protocol } = validateSetting(req);
  checkModel('teacher', req.teacher);
  const seed = req.teacherSeed ?? 0;
  if (!Number.isInteger(seed) || seed < 0) throw new ConfigError(`teacher seed must be a non-negative integer, got ${seed}`);
  return { def: vanilla, hp: {}, dataset, protocol, warnings: protocolWarnings(protocol) };
}

/** The extra teachers (model and seed) a method asks for, given the run's teacher. */
export function extraTeachersOf(v: Pick<Validated, 'def' | 'hp'>, teacher: string | undefined): ExtraTeacher[] {
  const list = v.def.extraTeachers?.(v.hp as never, teacher ?? '') ?? [];
  for (const t of list) {
    if (!Number.isInteger(t.seed) || t.seed < 0) throw new ConfigError(`method '${v.def.id}': extra teacher ${t.model} has a bad seed ${t.seed}`);
  }
  return list;
}

export function runId(req: RunRequest, v: Validated): string {
  const teacher = v.def.teacher === 'required' ? req.teacher : undefined;
  const key = {
    method: v.def.id, hp: v.hp, dataset: v.dataset, student: req.student, teacher: teacher ?? null,
    teacherSeed: teacher ? (req.teacherSeed ?? 0) : null, protocol: v.protocol, seed: req.seed,
    ...(v.def.revision ? { revision: v.def.revision } : {}), // absent at revision 0: recorded ids stay
  };
  return sha256Hex(JSON.stringify(key)).slice(0, 16);
}

export function resultsFile(resultsDir: string): string {
  return join(resultsDir, 'results.arrow');
}

export async function runOne(req: RunRequest): Promise<RunOutcome> {
  pinGitState(); // the row records the code this run started with (a no-op in a worker, pinned at its start)
  const log = req.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const v = validateRequest(req);
  const id = runId(req, v);
  const teacherId = v.def.teacher === 'required' ? req.teacher : undefined;
  const pairText = `${teacherId ? `${teacherId}->` : ''}${req.student}`;
  for (const w of v.warnings) log(`warning: ${w}`);
  checkDataDir(req.dataDir);
  checkRunOutputs(req.resultsDir, req.teachersDir);
  const file = resultsFile(req.resultsDir);
  const done = req.rerun ? undefined : readResults(file).find((r) => r.run_id === id);
  if (done) {
    log(`run ${id} (${v.def.id} ${pairText} seed ${req.seed}) is already in ${file}: skipped`);
    return { row: done, skipped: true };
  }

  const { engine, data, splits, store } = await prepareData(req, v, log);
  let teacherEntry: TeacherEntry | undefined;
  let teacher: Model | undefined;
  if (v.def.teacher === 'required') {
    teacherEntry = await ensureTeacher(store, req, v, data, splits, engine, log);
    teacher = await store.load(teacherEntry);
  }

  const extraEntries: TeacherEntry[] = [];
  for (const t of extraTeachersOf(v, req.teacher)) {
    extraEntries.push(await ensureTeacher(store, { ...req, teacher: t.model, teacherSeed: t.seed }, v, data, splits, engine, log));
  }
  const teachers = await Promise.all(extraEntries.map((e) => store.load(e)));

  const student = createModel(req.student, { numClasses: data.numClasses, seed: req.seed, widthFactor: v.protocol.widthFactor });
  if (teacher && teacher.paramCount() < student.paramCount()) {
    const count = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : `${(n / 1e3).toFixed(1)} k`);
    log(`warning: the teacher ${req.teacher} (${count(teacher.paramCount())} parameters) is smaller than the student `
      + `${req.student} (${count(student.paramCount())}): distillation usually goes from a larger network to a smaller one`);
  }
  let instance: MethodInstance | undefined;
  try {
    const lr = studentLearningRate(v.protocol, req.student);
    instance = v.def.create(methodContext({
      hp: v.hp, dataset: v.dataset, numClasses: data.numClasses, student, teacher, teachers, train: splits.train, epochs: v.protocol.epochs,
      batchSize: v.protocol.batchSize, rng: new Rng(req.seed).fork(`method:${v.def.id}`), data: v.def.data,
      probe: { dataset: v.dataset, protocol: v.protocol, seed: req.seed, lr },
    }));
    const runDir = join(req.resultsDir, 'runs', id);
    mkdirSync(runDir, { recursive: true });
    const lock = claimRun(runDir, id);
    try {
      const row = trainAndRecord({ req, v, id, runDir, file, engine, data, splits, store, lr, student, teacher, teachers, teacherEntry, extraEntries, instance, pairText });
      return { row, skipped: false };
    } finally {
      releaseRun(lock);
    }
  } finally {
    // a failed run in a suite worker must not keep its models while the worker takes the next job
    if (instance) disposeInstance(instance, student, [teacher, ...teachers]);
    student.dispose();
    teacher?.dispose();
    teachers.forEach((t) => t.dispose());
  }
}

interface RecordInput {
  req: RunRequest;
  v: Validated;
  id: string;
  runDir: string;
  file: string;
  engine: EngineInfo;
  data: CifarData;
  splits: RunSplits;
  store: TeacherStore;
  lr: number;
  student: Model;
  teacher?: Model;
  teachers: Model[];
  teacherEntry?: TeacherEntry;
  extraEntries: TeacherEntry[];
  instance: MethodInstance;
  /** `teacher->student` as progress lines show it. */
  pairText: string;
}

/** Trains the run (resuming its checkpoint) and appends its row to the results file. */
function trainAndRecord(a: RecordInput): ResultRow {
  const { req, v, id, runDir, engine, data, splits, store, student, teacher, teachers, teacherEntry, extraEntries, instance } = a;
  const trained = instance.procedure?.student ?? student;
  const scope = `${v.def.id} ${a.pairText} s${req.seed}`;
  // the teacher-output cache, per teacher (the run's and each extra one), for logits-only methods
  const cacheOf = (entry: TeacherEntry | undefined) => entry && v.def.teacherOutputs === 'logits' && teacherCacheEnabled(req.teacherCache)
    ? new TeacherLogitsFiles(join(store.dir, entry.name), {
      teacherHash: entry.sha256, dataset: v.dataset, split: splits.description, trainSize: splits.train.n,
      batchSize: v.protocol.batchSize, augment: v.protocol.augment, backend: kernelSetName(engine.backend),
      ...(v.protocol.dropLast ? { dropLast: true } : {}),
    })
    : undefined;
  const logitsCache = cacheOf(teacherEntry);
  const extraCaches = extraEntries.map(cacheOf);
  const networks = networksOf(instance); // read before training: the trainer disposes the networks
  const result = train({
    dataset: v.dataset, splits, protocol: v.protocol, lr: a.lr, seed: req.seed, student, teacher, teachers, method: instance,
    data: v.def.data, checkpointFile: join(runDir, 'checkpoint.kdbt'), artifactsDir: runDir, teacherLogits: logitsCache, teachersLogits: extraCaches,
    onEvent: (e) => req.onEvent?.(scope, e),
  });
  const row: ResultRow = {
    run_id: id, method: v.def.id, family: v.def.family, knowledge: v.def.knowledge, scheme: v.def.scheme,
    dataset: v.dataset, split: splits.evalSplit, split_description: splits.description,
    teacher: req.teacher && teacher ? req.teacher : '', student: req.student, protocol: v.protocol.id,
    protocol_label: effectiveLabel(v.protocol.label), seed: req.seed, epochs: v.protocol.epochs,
    best_top1: result.best.top1, best_top5: result.best.top5, best_epoch: result.best.epoch,
    last_top1: result.last.top1, last_top5: result.last.top5,
    wall_seconds: result.wallSeconds, train_seconds: result.trainSeconds, images_per_second: result.imagesPerSecond,
    backend: kernelSetName(engine.backend), backend_reason: engine.reason,
    teacher_hash: teacherEntry?.sha256 ?? '', teacher_top1: teacherEntry?.last.top1 ?? null,
    student_params: trained.paramCount(), student_flops: trained.flops(),
    git_commit: gitCommit(), date: new Date().toISOString(),
    hyperparameters: JSON.stringify(v.hp),
    details: JSON.stringify({ protocol: v.protocol, ...(v.def.revision ? { revision: v.def.revision } : {}), teacherSeed: teacher ? (req.teacherSeed ?? 0) : null, history: result.history, extra: result.metrics,
      provenance: runProvenance(engine.backend), trainImages: splits.train.n,
      teacherLogitsCache: logitsCache ? { hits: logitsCache.hits, misses: logitsCache.misses } : null, resumedFromEpoch: result.resumedFromEpoch ?? null, dataFiles: data.files,
      extraTeachers: extraEntries.map((e, i) => ({
        model: e.spec.arch, seed: e.spec.seed, sha256: e.sha256, top1: e.last.top1,
        logitsCache: extraCaches[i] ? { hits: extraCaches[i]!.hits, misses: extraCaches[i]!.misses } : null,
      })),
      trainedStudent: trained === student ? null : { id: trained.id, params: trained.paramCount(), flops: trained.flops() },
      networks,
      artifacts: result.artifacts }),
  };
  writeFileAtomic(join(runDir, 'run.json'), JSON.stringify(row, null, 2));
  appendResults(a.file, [row]);
  rmSync(join(runDir, 'checkpoint.kdbt'), { force: true });
  return row;
}

/**
 * The method's extra networks (online peers, a booster, generations) by slot name: the architecture
 * each was built as, its parameters and MACs. With the metrics (`peer1`, `booster`) they give both
 * columns of an online pair as the survey's tables print them.
 */
export function networksOf(instance: MethodInstance): Record<string, { id: string; params: number; flops: number }> {
  return Object.fromEntries(Object.entries(instance.procedure?.networks ?? {})
    .map(([name, slot]) => [name, { id: slot.model.id, params: slot.model.paramCount(), flops: slot.model.flops() }]));
}

/**
 * Claims a run for this process with a lock file in its folder, so that two processes (two suites
 * on one results folder) never train the same run at once; a lock left by a dead process of this
 * host is taken over. The lock is released when the run is recorded, or by the process's exit.
 */
function claimRun(runDir: string, id: string): string {
  const lock = join(runDir, 'run.lock');
  if (!tryCreateLock(lock) && !(lockHolderIsDead(lock) && (releaseLock(lock), tryCreateLock(lock)))) {
    const holder = lockHolder(lock);
    throw new RunBusyError(`run ${id} is being trained by ${holder ? `${holder.host} pid ${holder.pid}` : 'another process'} `
      + `(lock ${lock}); let it finish, or stop that process and run again to resume from its checkpoint`);
  }
  heldRuns.add(lock);
  if (!exitHookSet) {
    process.once('exit', () => heldRuns.forEach(releaseLock));
    exitHookSet = true;
  }
  return lock;
}

const heldRuns = new Set<string>();
let exitHookSet = false;

function releaseRun(lock: string): void {
  releaseLock(lock);
  heldRuns.delete(lock);
}

async function prepareData(req: Pick<RunRequest, 'backend' | 'dataDir' | 'teachersDir' | 'resultsDir'>, v: Pick<Validated, 'dataset' | 'protocol'>, log: (l: string) => void) {
  const engine = await initEngine({ backend: (req.backend ?? 'auto') as never });
  log(`backend: ${engine.backend} (${engine.reason})`);
  const data = await loadCifar(v.dataset, { dataDir: req.dataDir });
  const splits = makeRunSplits(data, {
    seed: 0, // every run of a dataset and protocol sees the same subset and evaluation split
    trainPerClass: v.protocol.trainPerClass,
    evalPerClass: v.protocol.evalPerClass,
    holdoutPerClass: v.protocol.holdoutPerClass,
  });
  log(`data: ${v.dataset} train ${splits.train.n}, evaluation ${splits.description} | protocol ${effectiveLabel(v.protocol.label)}`);
  const store = new TeacherStore(req.teachersDir ?? join(req.resultsDir, 'teachers'));
  return { engine, data, splits, store };
}

/** Trains (or finds) the teacher `req.teacher` for a dataset and protocol without running a student. */
export async function trainTeacherOnly(req: TeacherRequest): Promise<TeacherEntry> {
  const log = req.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const v = validateTeacherRequest(req);
  for (const w of v.warnings) log(`warning: ${w}`);
  checkDataDir(req.dataDir);
  checkRunOutputs(req.resultsDir, req.teachersDir);
  const { engine, data, splits, store } = await prepareData(req, v, log);
  return ensureTeacher(store, req, v, data, splits, engine, log);
}

/**
 * Returns the stored teacher for this request, training it with the vanilla method if missing; while
 * another process holds the teacher's training lease, waits for its result instead of training it twice.
 */
export async function ensureTeacher(
  store: TeacherStore, req: Pick<RunRequest, 'teacher' | 'teacherSeed' | 'onEvent'>, v: Pick<Validated, 'dataset' | 'protocol'>, data: CifarData, splits: RunSplits, engine: EngineInfo,
  log: (l: string) => void, opts: { pollMs?: number } = {},
): Promise<TeacherEntry> {
  const spec: TeacherSpec = {
    arch: req.teacher!, dataset: v.dataset, numClasses: data.numClasses, protocol: v.protocol.id,
    widthFactor: v.protocol.widthFactor, epochs: v.protocol.teacherEpochs, seed: req.teacherSeed ?? 0,
    split: splits.description, trainSize: splits.train.n,
  };
  const recipe = trainingRecipe(v.protocol);
  if (recipe) spec.recipe = recipe;
  let waiting = false;
  for (;;) {
    const found = store.find(spec);
    if (found) return found;
    if (store.tryLease(spec)) break;
    if (!waiting) {
      const holder = lockHolder(store.leaseFile(spec));
      log(`teacher ${spec.arch} (${spec.dataset}, ${spec.protocol}, seed ${spec.seed}) is being trained by ${holder ? `${holder.host} pid ${holder.pid}` : 'another process'}: waiting for it`);
      waiting = true;
    }
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 5000));
  }
  try {
    const found = store.find(spec); // stored by the previous holder between our check and our lease
    if (found) return found;
    log(`teacher ${spec.arch} (${spec.dataset}, ${spec.protocol}, seed ${spec.seed}) is not in the store: training it (${spec.epochs} epochs)`);
    const model = createModel(spec.arch, { numClasses: spec.numClasses, seed: spec.seed, widthFactor: spec.widthFactor });
    const instance = vanilla.create(methodContext({
      hp: {}, numClasses: spec.numClasses, student: model, train: splits.train, epochs: spec.epochs,
      batchSize: v.protocol.batchSize, rng: new Rng(spec.seed),
    }));
    const ckptDir = join(store.dir, 'checkpoints');
    mkdirSync(ckptDir, { recursive: true });
    const ckpt = join(ckptDir, `${spec.arch}-${spec.dataset}-${spec.protocol}-s${spec.seed}.kdbt`);
    let renewed = Date.now();
    const result = train({
      dataset: v.dataset, splits, protocol: { ...v.protocol, epochs: spec.epochs }, lr: studentLearningRate(v.protocol, spec.arch),
      seed: spec.seed, student: model, method: instance, checkpointFile: ckpt,
      onEvent: (e) => {
        if (Date.now() - renewed > 30_000) (store.renewLease(spec), (renewed = Date.now()));
        req.onEvent?.(`teacher ${spec.arch} s${spec.seed}`, e);
      },
    });
    const entry = await store.save(spec, model, { best: result.best, last: result.last, backend: kernelSetName(engine.backend), wallSeconds: result.wallSeconds });
    if (existsSync(ckpt)) rmSync(ckpt);
    model.dispose();
    log(`teacher ${spec.arch}: top1 ${result.last.top1.toFixed(2)} (best ${result.best.top1.toFixed(2)}), stored as ${entry.sha256.slice(0, 12)}`);
    return entry;
  } finally {
    store.releaseLease(spec);
  }
}

