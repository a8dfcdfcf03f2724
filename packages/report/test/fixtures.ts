/**
 * FABRICATED TEST DATA for the report's unit and e2e tests. None of these numbers were measured:
 * they are made up to exercise the statistics and the pages, and their protocol label says so.
 */
import type { MethodMeta, ReportRow } from '../src/index.js';

export const TEST_LABEL = 'TEST DATA (fabricated for report tests, not measured) · quick (CPU): 400 train + 100 eval images/class, widths x0.5, 12 epochs';

const FAMILY: Record<string, [string, string, string]> = {
  vanilla: ['baseline', 'none', 'offline'],
  kd: ['response', 'response', 'offline'],
  dkd: ['response', 'response', 'offline'],
  fitnet: ['feature', 'feature', 'offline'],
  at: ['attention', 'feature', 'offline'],
  crd: ['relation', 'relation', 'offline'],
  rkd: ['relation', 'relation', 'offline'],
};

export const TEST_METHODS: MethodMeta[] = Object.entries(FAMILY).map(([id, [family, knowledge, scheme]]) => ({
  id, title: `${id.toUpperCase()} (test title)`, family, knowledge, scheme, paper: null,
} as MethodMeta));

/** Per-seed accuracies (seeds 0, 1, 2) of each method on each pair: made up. */
const ACC: Record<string, Record<string, [number, number, number]>> = {
  'wrn_40_2|wrn_16_2': {
    vanilla: [60.0, 61.0, 59.5], kd: [62.0, 62.5, 61.5], dkd: [63.0, 63.4, 62.2], fitnet: [61.0, 60.6, 61.4],
    at: [62.2, 62.0, 62.9], crd: [63.5, 63.1, 63.0], rkd: [61.2, 61.8, 60.9],
  },
  'resnet56|resnet20': {
    vanilla: [55.0, 55.4, 54.6], kd: [57.0, 56.2, 56.8], crd: [57.5, 57.9, 57.1], fitnet: [55.1, 55.9, 55.3],
  },
};

const DAYS = [['2026-11-25T02:00:00.000Z', 'aaaaaaa1111111'], ['2026-11-26T02:00:00.000Z', 'bbbbbbb2222222'], ['2026-11-27T02:00:00.000Z', 'ccccccc3333333']] as const;

function row(p: Partial<ReportRow> & Pick<ReportRow, 'method' | 'student' | 'teacher' | 'seed' | 'last_top1' | 'dataset'>): ReportRow {
  const [family, knowledge, scheme] = FAMILY[p.method]!;
  return {
    run_id: `test-${p.dataset}-${p.method}-${p.teacher}-${p.student}-${p.seed}-${p.date ?? ''}`,
    family, knowledge, scheme,
    split: 'test', split_description: 'test subsample 100/class (1000), seed 0 [TEST DATA]',
    protocol: 'quick', protocol_label: TEST_LABEL, epochs: 12, best_top1: p.last_top1 + 0.4,
    train_seconds: 100 + p.method.length * 20, images_per_second: 150, backend: 'wasm',
    teacher_top1: p.teacher ? (p.teacher === 'wrn_40_2' ? 66.5 : 60.2) : null,
    student_params: p.student === 'wrn_16_2' ? 175_000 : 70_000, student_flops: p.student === 'wrn_16_2' ? 25_000_000 : 10_000_000,
    git_commit: DAYS[2][1], date: DAYS[2][0],
    details: JSON.stringify({ protocol: { id: 'quick', trainPerClass: 400, evalPerClass: 100, widthFactor: 0.5, epochs: 12, teacherEpochs: 24 } }),
    ...p,
  } as ReportRow;
}

/** 3 seeds x (7 methods on wrn_40_2->wrn_16_2 + 4 on resnet56->resnet20) on CIFAR-100, one CIFAR-10 pair with one seed, and KD history over 3 nights. */
export function testRows(): ReportRow[] {
  const rows: ReportRow[] = [];
  for (const [pair, methods] of Object.entries(ACC)) {
    const [teacher, student] = pair.split('|') as [string, string];
    for (const [method, accs] of Object.entries(methods)) {
      accs.forEach((acc, seed) => rows.push(row({ dataset: 'cifar100', method, teacher: method === 'vanilla' ? '' : teacher, student, seed, last_top1: acc })));
    }
  }
  // Earlier nightly runs of KD on one pair (trend chart).
  DAYS.slice(0, 2).forEach(([date, commit], i) => rows.push(row({ dataset: 'cifar100', method: 'kd', teacher: 'wrn_40_2', student: 'wrn_16_2', seed: 10 + i, last_top1: 60.5 + i, date, git_commit: commit })));
  rows.push(row({ dataset: 'cifar10', method: 'vanilla', teacher: '', student: 'resnet20', seed: 0, last_top1: 80.1 }));
  rows.push(row({ dataset: 'cifar10', method: 'kd', teacher: 'resnet56', student: 'resnet20', seed: 0, last_top1: 81.3 }));
  return rows;
}
