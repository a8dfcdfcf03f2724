/**
 * Suite files (benchmarks/*.yaml or *.json): a grid of datasets x teacher/student pairs x methods x
 * seeds under one protocol, with per-pair overrides. Loaded with line numbers, so that every
 * problem is reported as `file:line: message`, and expanded into the runs and teachers it needs.
 *
 * ```yaml
 * name: crd-cifar100
 * datasets: [cifar100]
 * protocol: quick            # default; `kdbench suite run --protocol` overrides
 * seeds: 3                   # 1..3, or a list [1, 2, 3] (default 3 seeds); --seeds N overrides
 * teacherSeed: 0
 * methods: [vanilla, kd]     # default method list of every pair
 * hp: { kd: { T: 4 } }       # per-method hyperparameters for every pair
 * set: { epochs: 12 }        # protocol settings for every run (recorded in each result's label)
 * pairs:
 *   - teacher: resnet56
 *     student: resnet20
 *     methods: [kd, dkd]     # replaces the default list for this pair
 *     hp: { dkd: { beta: 2 } }
 *     set: { batchSize: 32 }
 *     datasets: [cifar100]
 *     note: free text (the published row it maps to)
 *     reference: { table: crd, teacher: resnet56, student: resnet20 }
 *     gpu: true              # sized for GPU machines: `suite run --skip-gpu-pairs` leaves it out
 *     seeds: 10              # this pair's seeds (a count or a list), e.g. more on a cheap pair; --seeds N overrides
 * ```
 *
 * `reference` declares the published pair a CPU-sized pair stands in for: the report compares
 * the pair's methods with that table's rows of the named teacher and student (model ids) and
 * says so. Tables: the ids of @kdbench/report's PUBLISHED_TABLE_IDS. It does not enter run ids.
 */
import { readFileSync } from 'node:fs';
import { LineCounter, isMap, parseDocument, type Document } from 'yaml';
import { ConfigError, PROTOCOL_IDS, PROTOCOL_SETTINGS, getProtocol, parseProtocolOverrides, resolveHyper, trainingRecipe, type Protocol } from '@kdbench/core';
import { modelIdProblem } from '@kdbench/models';
import { PUBLISHED_TABLE_IDS } from '@kdbench/report';
import { registry } from '../registry.js';
import { DATASETS, MAX_SENSIBLE_EPOCHS, extraTeachersOf, runId, validateRequest, type RunRequest, type TeacherRequest } from '../run.js';

export class SuiteError extends ConfigError {}

type Scalar = string | number | boolean;

export interface SuitePair {
  teacher?: string;
  student: string;
  methods: string[];
  datasets: string[];
  hp: Record<string, Record<string, Scalar>>;
  set: Record<string, Scalar>;
  note?: string;
  /** The published pair this pair stands in for (kdbench model ids), and its table. */
  reference?: { table: string; teacher: string; student: string; where: string };
  /** The pair is sized for GPU machines (architectures too large for a CPU run); `--skip-gpu-pairs` leaves it out. */
  gpu?: boolean;
  /** The pair's own seeds, replacing the suite's (a cheap pair can afford more); `--seeds` replaces both. */
  seeds?: number[];
  /** Where the pair is defined, for messages. */
  where: string;
}

export interface Suite {
  file: string;
  name: string;
  description?: string;
  protocol: string;
  seeds: number[];
  teacherSeed: number;
  pairs: SuitePair[];
  /** Values that are allowed but probably a mistake, as `file:line: ...`. */
  warnings: string[];
}

const TOP_FIELDS = ['name', 'description', 'datasets', 'protocol', 'seeds', 'teacherSeed', 'methods', 'hp', 'set', 'pairs'];
const PAIR_FIELDS = ['teacher', 'student', 'methods', 'datasets', 'hp', 'set', 'note', 'reference', 'gpu', 'seeds'];
const REFERENCE_FIELDS = ['table', 'teacher', 'student'];

/** Reads and validates a suite file; throws SuiteError with one `file:line: problem` line per problem. */
export function loadSuite(file: string): Suite {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    const reason = { ENOENT: 'no such file', EACCES: 'permission denied', EISDIR: 'it is a folder' }[code] ?? code;
    throw new SuiteError(`${file}: cannot read: ${reason} (${code})`);
  }
  return parseSuite(text, file);
}

export function parseSuite(text: string, file: string): Suite {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length) {
    throw new SuiteError(doc.errors.map((e) => {
      const pos = e.linePos?.[0];
      return `${file}:${pos ? `${pos.line}:${pos.col}` : '1'}: not valid YAML/JSON: ${e.message.split('\n')[0]}`;
    }).join('\n'));
  }
  return new Validator(doc, lines, file).suite();
}

/** Aborts the check of one part of a suite; its problem is already recorded. */
class Invalid extends Error {}

/**
 * Checks a parsed suite part by part, recording every problem at the line of the offending value
 * and going on with the next part, so that one pass reports all the problems of a file.
 */
class Validator {
  private readonly js: unknown;
  private readonly errors: string[] = [];
  private readonly warnings: string[] = [];

  constructor(private readonly doc: Document, private readonly lines: LineCounter, private readonly file: string) {
    this.js = doc.toJS({ maxAliasCount: 1000 });
  }

  /** `file:line` of the value at `path` (or of its key when `key`), else of the nearest parent. */
  at(path: (string | number)[], key = false): string {
    for (let p = path; ; p = p.slice(0, -1)) {
      let range: [number, number, number] | undefined;
      if (key && p === path && p.length > 0) {
        const parent = p.length === 1 ? this.doc.contents : this.doc.getIn(p.slice(0, -1), true);
        if (isMap(parent)) {
          const pair = parent.items.find((it) => (it.key as { value?: unknown })?.value === p[p.length - 1]);
          range = (pair?.key as { range?: [number, number, number] })?.range;
        }
      } else {
        const node = p.length === 0 ? this.doc.contents : this.doc.getIn(p, true);
        range = (node as { range?: [number, number, number] } | null)?.range;
      }
      if (range) return `${this.file}:${this.lines.linePos(range[0]).line}`;
      if (p.length === 0) return `${this.file}:1`;
    }
  }

  /** Records a problem at `path` and abandons the current part (see `check`). */
  fail(path: (string | number)[], message: string, key = false): never {
    this.errors.push(`${this.at(path, key)}: ${message}`);
    throw new Invalid();
  }

  /** Runs one part's checks; a failed part gives undefined, and the problems of the others are still found. */
  check<T>(fn: () => T): T | undefined {
    try {
      return fn();
    } catch (e) {
      if (e instanceof Invalid) return undefined;
      throw e;
    }
  }

  /** Checks every item (recording each problem); the part fails if any item did. */
  each<T>(items: readonly T[], fn: (item: T, i: number) => void): void {
    const failed = items.filter((item, i) => this.check(() => (fn(item, i), true)) === undefined).length;
    if (failed) throw new Invalid();
  }

  /** `file:line: ...` messages in line order. */
  private byLine(messages: string[]): string[] {
    const line = (m: string) => Number(/^:(\d+)/.exec(m.slice(this.file.length))?.[1] ?? 0);
    return [...messages].sort((a, b) => line(a) - line(b));
  }

  warn(path: (string | number)[], message: string): void {
    this.warnings.push(`${this.at(path)}: ${message}`);
  }

  get(path: (string | number)[]): unknown {
    let v: unknown = this.js;
    for (const k of path) {
      if (v === null || typeof v !== 'object') return undefined;
      v = (v as Record<string | number, unknown>)[k];
    }
    return v === null ? undefined : v;
  }

  fields(path: (string | number)[], allowed: string[], what: string): Record<string, unknown> {
    const value = this.get(path);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) this.fail(path, `${what} must be a mapping`);
    for (const k of Object.keys(value as object)) {
      if (!allowed.includes(k)) this.check(() => this.fail([...path, k], `unknown field '${k}' in ${what} (fields: ${allowed.join(', ')})`, true));
    }
    return value as Record<string, unknown>;
  }

  stringList(path: (string | number)[], what: string, known: readonly string[], kind: string): string[] {
    const value = this.get(path);
    const list = typeof value === 'string' ? [value] : value;
    if (!Array.isArray(list) || list.length === 0) this.fail(path, `${what} must be a non-empty list`);
    this.each(list, (item, i) => {
      const p = typeof value === 'string' ? path : [...path, i];
      if (typeof item !== 'string') this.fail(p, `${what}: expected a ${kind} id, got ${JSON.stringify(item)}`);
      if (!known.includes(item)) this.fail(p, `unknown ${kind} '${item}'. Known ${kind}s: ${known.join(', ')}`);
    });
    return list as string[];
  }

  model(path: (string | number)[], role: string): string {
    const value = this.get(path);
    if (typeof value !== 'string') this.fail(path, `${role} must be a model id`);
    const problem = modelIdProblem(value, role);
    if (problem) this.fail(path, problem);
    return value;
  }

  hp(path: (string | number)[]): Record<string, Record<string, Scalar>> {
    const value = this.get(path);
    if (value === undefined) return {};
    if (value === null || typeof value !== 'object' || Array.isArray(value)) this.fail(path, 'hp must map method ids to { name: value }');
    this.each(Object.entries(value as Record<string, unknown>), ([method, hp]) => {
      if (!registry.has(method)) this.fail([...path, method], `hp: unknown method '${method}'. Known methods: ${registry.list().map((d) => d.id).join(', ')}`, true);
      if (hp === null || typeof hp !== 'object' || Array.isArray(hp)) this.fail([...path, method], `hp.${method} must be a mapping of hyperparameters`);
      const def = registry.get(method);
      this.each(Object.entries(hp as Record<string, unknown>), ([k, raw]) => {
        if (!(k in def.defaults)) {
          this.fail([...path, method, k], `method '${method}' has no hyperparameter '${k}' (it has: ${Object.keys(def.defaults).join(', ') || 'none'})`, true);
        }
        if (!['string', 'number', 'boolean'].includes(typeof raw)) this.fail([...path, method, k], `hp.${method}.${k} must be a number, string or boolean`);
        try {
          resolveHyper(def, { [k]: raw as Scalar }); // type and allowed values
        } catch (e) {
          this.fail([...path, method, k], (e as Error).message);
        }
      });
    });
    return value as Record<string, Record<string, Scalar>>;
  }

  set(path: (string | number)[]): Record<string, Scalar> {
    const value = this.get(path);
    if (value === undefined) return {};
    if (value === null || typeof value !== 'object' || Array.isArray(value)) this.fail(path, 'set must be a mapping of protocol settings');
    this.each(Object.entries(value as Record<string, unknown>), ([k, raw]) => {
      if (!PROTOCOL_SETTINGS.includes(k)) this.fail([...path, k], `unknown protocol setting '${k}' (settings: ${PROTOCOL_SETTINGS.join(', ')})`, true);
      try {
        parseProtocolOverrides('quick', `${k}=${String(raw)}`);
      } catch (e) {
        this.fail([...path, k], (e as Error).message.replace(/^--set: /, 'set: '));
      }
      if ((k === 'epochs' || k === 'teacherEpochs') && Number(raw) > MAX_SENSIBLE_EPOCHS) {
        this.warn([...path, k], `${k}: ${String(raw)} is more than ${MAX_SENSIBLE_EPOCHS} (the paper protocol trains 240): check the value`);
      }
    });
    return value as Record<string, Scalar>;
  }

  suite(): Suite {
    const top = this.check(() => this.fields([], TOP_FIELDS, 'the suite'));
    if (!top) throw new SuiteError(this.errors.join('\n'));
    const name = this.check(() => {
      if (typeof top.name !== 'string' || !top.name) this.fail(['name'], "the suite needs a 'name'");
      return top.name;
    });
    const protocol = this.check(() => {
      const p = top.protocol ?? 'quick';
      if (typeof p !== 'string' || !PROTOCOL_IDS.includes(p as never)) this.fail(['protocol'], `unknown protocol '${String(p)}'. Known protocols: ${PROTOCOL_IDS.join(', ')}`);
      return p;
    });
    const seeds = this.check(() => this.seeds(['seeds']));
    const teacherSeed = this.check(() => {
      const s = top.teacherSeed ?? 0;
      if (!Number.isInteger(s) || (s as number) < 0) this.fail(['teacherSeed'], 'teacherSeed must be a non-negative integer');
      return s as number;
    });
    const methodIds = registry.list().map((d) => d.id);
    const datasets = top.datasets === undefined ? undefined : this.check(() => this.stringList(['datasets'], 'datasets', DATASETS, 'dataset'));
    const methods = top.methods === undefined ? undefined : this.check(() => this.stringList(['methods'], 'methods', methodIds, 'method'));
    const topOk = (top.datasets === undefined || datasets) && (top.methods === undefined || methods);
    const hp = this.check(() => this.hp(['hp']));
    const set = this.check(() => this.set(['set']));
    const pairList = this.check(() => {
      if (!Array.isArray(top.pairs) || top.pairs.length === 0) this.fail(['pairs'], "the suite needs a non-empty list 'pairs'");
      return top.pairs as unknown[];
    }) ?? [];
    const pairs = pairList.map((_, i) => this.check(() => this.pair(i, { datasets, methods, hp: hp ?? {}, set: set ?? {}, topOk: Boolean(topOk) })));
    if (this.errors.length) throw new SuiteError(this.byLine(this.errors).join('\n'));
    return {
      file: this.file, name: name as string, description: top.description as string | undefined,
      protocol: protocol as string, seeds: seeds!, teacherSeed: teacherSeed!, pairs: pairs as SuitePair[], warnings: this.byLine(this.warnings),
    };
  }

  private pair(i: number, top: { datasets?: string[]; methods?: string[]; hp: Record<string, Record<string, Scalar>>; set: Record<string, Scalar>; topOk: boolean }): SuitePair {
    const path = ['pairs', i];
    const methodIds = registry.list().map((d) => d.id);
    const raw = this.fields(path, PAIR_FIELDS, `pair ${i + 1}`);
    const student = this.check(() => {
      if (raw.student === undefined) this.fail(path, `pair ${i + 1} needs a 'student'`);
      return this.model([...path, 'student'], 'student');
    });
    const teacher = raw.teacher === undefined || raw.teacher === null ? undefined : this.check(() => this.model([...path, 'teacher'], 'teacher'));
    const teacherOk = raw.teacher === undefined || raw.teacher === null || teacher !== undefined;
    const methods = this.check(() => {
      const list = raw.methods === undefined ? top.methods : this.stringList([...path, 'methods'], 'methods', methodIds, 'method');
      if (!list && top.topOk) this.fail(path, `pair ${i + 1} has no methods: give 'methods' in the pair or at the top of the suite`);
      return list;
    });
    const datasets = this.check(() => {
      const list = raw.datasets === undefined ? top.datasets : this.stringList([...path, 'datasets'], 'datasets', DATASETS, 'dataset');
      if (!list && top.topOk) this.fail(path, `pair ${i + 1} has no datasets: give 'datasets' in the pair or at the top of the suite`);
      return list;
    });
    const pairHp = this.check(() => this.hp([...path, 'hp']));
    const pairSet = this.check(() => this.set([...path, 'set']));
    const seeds = raw.seeds === undefined ? undefined : this.check(() => this.seeds([...path, 'seeds']));
    this.check(() => {
      if (raw.note !== undefined && typeof raw.note !== 'string') this.fail([...path, 'note'], 'note must be text');
      if (raw.gpu !== undefined && typeof raw.gpu !== 'boolean') this.fail([...path, 'gpu'], `gpu must be true or false, got '${String(raw.gpu)}'`);
    });
    const reference = raw.reference === undefined ? undefined : this.check(() => {
      if (raw.teacher === undefined || raw.teacher === null) {
        this.fail([...path, 'reference'], `pair ${i + 1} has a reference but no teacher: a reference pair maps a teacher/student pair`, true);
      }
      return this.reference([...path, 'reference']);
    });
    if (!student || !teacherOk || !methods || !datasets || !pairHp || !pairSet || (raw.seeds !== undefined && !seeds) || (raw.reference !== undefined && !reference)) throw new Invalid();
    const hp: Record<string, Record<string, Scalar>> = {};
    for (const m of new Set([...Object.keys(top.hp), ...Object.keys(pairHp)])) hp[m] = { ...top.hp[m], ...pairHp[m] };
    this.each(methods, (m, j) => {
      const def = registry.get(m);
      if (def.teacher === 'required' && !teacher) {
        this.fail(raw.methods === undefined ? path : [...path, 'methods', j], `method '${m}' needs a teacher but pair ${i + 1} has none`);
      }
      // what depends on the pair as a whole (extra teachers of multi-teacher methods): at the hp that sets it, else the teacher
      try {
        extraTeachersOf({ def, hp: resolveHyper(def, Object.fromEntries(Object.entries(hp[m] ?? {}).map(([k, v]) => [k, String(v)]))) }, teacher);
      } catch (e) {
        const where = pairHp[m] ? [...path, 'hp', m] : top.hp[m] ? ['hp', m] : raw.teacher !== undefined ? [...path, 'teacher'] : path;
        this.fail(where, (e as Error).message);
      }
    });
    return { teacher, student, methods, datasets, hp, set: { ...top.set, ...pairSet }, note: raw.note as string | undefined, reference,
      ...(raw.gpu === true ? { gpu: true } : {}), ...(seeds ? { seeds } : {}), where: this.at(path) };
  }

  /** `reference: { table, teacher, student }`: a published table id and the pair it stands in for (model ids). */
  reference(path: (string | number)[]): NonNullable<SuitePair['reference']> {
    const raw = this.fields(path, REFERENCE_FIELDS, 'reference');
    for (const k of REFERENCE_FIELDS) if (raw[k] === undefined) this.fail(path, `reference needs '${k}' (fields: ${REFERENCE_FIELDS.join(', ')})`);
    if (typeof raw.table !== 'string' || !(PUBLISHED_TABLE_IDS as readonly string[]).includes(raw.table)) {
      this.fail([...path, 'table'], `unknown published table '${String(raw.table)}'. Tables: ${PUBLISHED_TABLE_IDS.join(', ')}`);
    }
    return {
      table: raw.table, teacher: this.model([...path, 'teacher'], 'reference teacher'),
      student: this.model([...path, 'student'], 'reference student'), where: this.at(path),
    };
  }

  seeds(path: (string | number)[]): number[] {
    const value = this.get(path);
    if (value === undefined) return [1, 2, 3]; // numbers people compare come from at least 3 seeds
    if (typeof value === 'number') {
      if (!Number.isInteger(value) || value < 1) this.fail(path, `seeds must be a count >= 1 or a list of seeds, got ${value}`);
      return seedRange(value);
    }
    if (!Array.isArray(value) || value.length === 0) this.fail(path, 'seeds must be a count or a non-empty list of seeds');
    value.forEach((s, i) => {
      if (!Number.isInteger(s) || s < 0) this.fail([...path, i], `seed must be a non-negative integer, got ${JSON.stringify(s)}`);
    });
    return [...new Set(value as number[])];
  }
}

/** Seeds 1..n (kdbench run's default student seed is 1). */
export function seedRange(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1);
}

/** One run of a suite, without the machine-specific fields (data dir, results dir, backend). */
export type PlannedRequest = Omit<RunRequest, 'dataDir' | 'resultsDir' | 'teachersDir' | 'backend' | 'onEvent' | 'log' | 'teacherCache'>;

/** A teacher job: train (or find) one teacher, without the machine-specific fields. */
export type PlannedTeacherRequest = Omit<TeacherRequest, 'dataDir' | 'resultsDir' | 'teachersDir' | 'backend' | 'onEvent' | 'log' | 'teacherCache'>;

export interface PlannedRun {
  id: string;
  label: string;
  request: PlannedRequest;
  /** Keys of the teacher jobs it needs: its teacher and any extra teachers (empty for teacher-free methods). */
  teacherKeys: string[];
}

export interface PlannedTeacher {
  key: string;
  label: string;
  request: PlannedTeacherRequest;
}

export interface SuitePlan {
  suite: Suite;
  protocol: string;
  seeds: number[];
  runs: PlannedRun[];
  teachers: PlannedTeacher[];
  shard?: { index: number; count: number };
  /** How many pairs `skipGpuPairs` left out. */
  skippedGpuPairs: number;
  /** The pairs (of those planned) that run their own seeds instead of `seeds`. */
  ownSeeds: { where: string; seeds: number[] }[];
  /** The suite file's warnings (settings that are allowed but probably a mistake). */
  warnings: string[];
}

export interface ExpandOptions {
  /** Replaces the suite's protocol. */
  protocol?: string;
  /** Replaces the suite's seeds and every pair's own. */
  seeds?: number[];
  /** Protocol settings applied on top of the suite's (e.g. from --set). */
  set?: Partial<Protocol>;
  shard?: { index: number; count: number };
  /** Leaves out the pairs marked `gpu: true`. */
  skipGpuPairs?: boolean;
}

/**
 * The runs of a suite, in file order (pairs, datasets, methods, seeds: the pair's own, else the
 * suite's, unless `opts.seeds` replaces them), deduplicated by run id
 * (a teacher-free method such as vanilla is one run per student even when several pairs list it),
 * and the teachers they need, deduplicated by everything that determines a stored teacher.
 */
export function expandSuite(suite: Suite, opts: ExpandOptions = {}): SuitePlan {
  const protocol = opts.protocol ?? suite.protocol;
  getProtocol(protocol);
  const seeds = opts.seeds ?? suite.seeds;
  const runs = new Map<string, PlannedRun>();
  const teachers = new Map<string, PlannedTeacher>();
  const errors = new Set<string>();
  const pairs = opts.skipGpuPairs ? suite.pairs.filter((p) => !p.gpu) : suite.pairs;
  for (const pair of pairs) {
    const overrides = { ...parseProtocolOverrides(protocol, setText(pair.set)), ...(opts.set ?? {}) };
    for (const dataset of pair.datasets) {
      for (const method of pair.methods) {
        for (const seed of opts.seeds ?? pair.seeds ?? seeds) { // the CLI's, else the pair's own, else the suite's
          const request: PlannedRequest = {
            dataset, method, student: pair.student, teacher: pair.teacher, protocol, seed, teacherSeed: suite.teacherSeed,
            hp: Object.fromEntries(Object.entries(pair.hp[method] ?? {}).map(([k, v]) => [k, String(v)])),
            protocolOverrides: overrides,
          };
          const needsTeacher = registry.get(method).teacher === 'required';
          if (!needsTeacher) request.teacher = undefined;
          let v: ReturnType<typeof validateRequest>;
          try {
            v = validateRequest({ ...request, dataDir: '', resultsDir: '' });
          } catch (e) {
            errors.add(`${pair.where}: ${(e as Error).message}`);
            continue;
          }
          const id = runId({ ...request, dataDir: '', resultsDir: '' }, v);
          if (runs.has(id)) continue;
          const needed: { arch: string; seed: number }[] = [
            ...(needsTeacher ? [{ arch: pair.teacher!, seed: suite.teacherSeed }] : []),
            ...extraTeachersOf(v, pair.teacher).map((t) => ({ arch: t.model, seed: t.seed })),
          ];
          const teacherKeys = needed.map(({ arch, seed: teacherSeed }) => {
            const p = v.protocol;
            const key = JSON.stringify([dataset, arch, teacherSeed, p.id, p.widthFactor, p.teacherEpochs,
              p.trainPerClass ?? null, p.evalPerClass ?? null, p.holdoutPerClass, p.batchSize, p.lr, p.lrLightStudents,
              p.momentum, p.weightDecay, p.augment, trainingRecipe(p) ?? null]);
            if (!teachers.has(key)) {
              teachers.set(key, {
                key, label: `teacher ${arch} ${dataset}${'widthFactor' in pair.set ? ` [widthFactor=${p.widthFactor}]` : ''} s${teacherSeed}`,
                request: { dataset, protocol, teacher: arch, teacherSeed, protocolOverrides: overrides },
              });
            }
            return key;
          });
          const settings = setText(pair.hp[method] ?? {}, pair.set);
          const label = `${dataset} ${method} ${needsTeacher ? `${pair.teacher}->` : ''}${pair.student}${settings ? ` [${settings}]` : ''} s${seed}`;
          runs.set(id, { id, label, request, teacherKeys });
        }
      }
    }
  }
  if (errors.size) throw new SuiteError([...errors].join('\n'));
  let planned = [...runs.values()];
  if (opts.shard) planned = planned.filter((r) => shardOf(r.id, opts.shard!.count) === opts.shard!.index);
  const neededKeys = new Set(planned.flatMap((r) => r.teacherKeys));
  return {
    suite, protocol, seeds, runs: planned, teachers: [...teachers.values()].filter((t) => neededKeys.has(t.key)), shard: opts.shard,
    skippedGpuPairs: suite.pairs.length - pairs.length, warnings: suite.warnings,
    ownSeeds: opts.seeds ? [] : pairs.filter((p) => p.seeds).map((p) => ({ where: p.where, seeds: p.seeds! })),
  };
}

/** The plan's seeds in words: `1,2,3`, and the pairs with their own (`1,2,3; 1-10 on 9 pairs`). */
export function seedsText(plan: Pick<SuitePlan, 'seeds' | 'ownSeeds'>): string {
  const list = (seeds: number[]) => (seeds.length > 3 && seeds.every((x, i) => i === 0 || x === seeds[i - 1]! + 1) ? `${seeds[0]}-${seeds.at(-1)}` : seeds.join(','));
  const groups = new Map<string, number>();
  for (const p of plan.ownSeeds) groups.set(list(p.seeds), (groups.get(list(p.seeds)) ?? 0) + 1);
  return [list(plan.seeds), ...[...groups].map(([text, n]) => `${text} on ${n} pair${n > 1 ? 's' : ''}`)].join('; ');
}

/** `k=v,k=v` (the form `--set` takes) of one or more records of settings, in order. */
function setText(...sets: Record<string, Scalar>[]): string {
  return sets.flatMap((set) => Object.entries(set)).map(([k, v]) => `${k}=${String(v)}`).join(',');
}

/** The shard (0..count-1) a run belongs to: its run id (a hex hash) modulo the shard count. */
export function shardOf(runIdHex: string, count: number): number {
  return Number(BigInt(`0x${runIdHex}`) % BigInt(count));
}

/** Parses `--shard i/n` (0 <= i < n). */
export function parseShard(text: string | undefined): { index: number; count: number } | undefined {
  if (text === undefined) return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index >= count) throw new ConfigError(`--shard expects i/n with 0 <= i < n (e.g. 0/4), got '${text}'`);
  return { index, count };
}
