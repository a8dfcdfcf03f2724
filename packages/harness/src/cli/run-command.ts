/** `kdbench run`: one training run (teacher trained on demand), appended to the results file. */
import { ConfigError, parseHyperList, parseProtocolOverrides } from '@kdbench/core';
import { RunProgress } from '../progress.js';
import { runOne, resultsFile } from '../run.js';
import { COMMON_OPTIONS, dataDir, int, parse, resultsDir } from './args.js';
import { formatTable } from './table.js';
import { RUN_HELP } from './help.js';

const OPTIONS = {
  ...COMMON_OPTIONS,
  dataset: { type: 'string' },
  method: { type: 'string' },
  student: { type: 'string' },
  teacher: { type: 'string' },
  protocol: { type: 'string', default: 'quick' },
  seed: { type: 'string' },
  'teacher-seed': { type: 'string' },
  hp: { type: 'string' },
  set: { type: 'string' },
  'teacher-cache': { type: 'string' },
} as const;

export async function runCommand(argv: string[]): Promise<number> {
  const { values: o } = parse(argv, OPTIONS, RUN_HELP);
  if (o.help) {
    console.log(RUN_HELP);
    return 0;
  }
  for (const k of ['dataset', 'method', 'student'] as const) {
    if (!o[k]) throw new ConfigError(`--${k} is required (kdbench run --help)`);
  }
  const protocolOverrides = parseProtocolOverrides(o.protocol!, o.set);
  const progress = new Map<string, RunProgress>();
  const { row, skipped } = await runOne({
    dataset: o.dataset!, method: o.method!, student: o.student!, teacher: o.teacher, protocol: o.protocol!,
    seed: int('seed', o.seed, 1), teacherSeed: int('teacher-seed', o['teacher-seed'], 0),
    hp: parseHyperList(o.hp), protocolOverrides, dataDir: dataDir(o), resultsDir: resultsDir(o), backend: o.backend,
    teacherCache: parseTeacherCache(o['teacher-cache']),
    onEvent: (scope, e) => {
      if (!progress.has(scope)) progress.set(scope, new RunProgress(scope));
      progress.get(scope)!.onEvent(e);
    },
  });
  console.log(formatTable(
    ['method', 'teacher', 'student', 'dataset', 'split', 'protocol', 'seed', 'best top1', 'last top1', 'img/s', 'backend'],
    [[row.method, row.teacher || '-', row.student, row.dataset, row.split, row.protocol, row.seed,
      Number(row.best_top1.toFixed(2)), Number(row.last_top1.toFixed(2)), Number(row.images_per_second.toFixed(1)), row.backend]],
  ));
  console.log(`${skipped ? 'already recorded in' : 'appended to'} ${resultsFile(resultsDir(o))} (run ${row.run_id})`);
  return 0;
}

/** Parses --teacher-cache on|off (undefined: the default, on unless $KDBENCH_TEACHER_CACHE=off). */
export function parseTeacherCache(text: string | undefined): boolean | undefined {
  if (text === undefined) return undefined;
  if (text === 'on') return true;
  if (text === 'off') return false;
  throw new ConfigError(`--teacher-cache must be on or off, got '${text}'`);
}

