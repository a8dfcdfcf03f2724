/**
 * The survey's online and self-distillation rows beside the measured ones: FABRICATED TEST DATA
 * (made-up accuracies, labelled as such). Those rows have no pre-trained teacher; their teacher
 * column names the partner network (a DML peer, Rocket's booster) or none.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildSite, buildLeaderboards, compare, loadPublished, partnerOf, settingVariants, type DeclaredSetting, type MethodMeta, type ReportRow } from '../src/index.js';

const LABEL = 'TEST DATA (fabricated for the online-rows test, not measured) · quick';
const METHODS: MethodMeta[] = [
  ['vanilla', 'baseline', 'offline', {}],
  ['pcl', 'online', 'online', { branches: 3 }],
  ['dml', 'online', 'online', { peers: 2, peer: '', weight: 1 }],
  ['rocket', 'online', 'online', { gamma: 0.03, booster: 'wrn_40_1', share: 'interval' }],
  ['ddgsd', 'self', 'self', { T: 3 }],
  ['tfkdself', 'self', 'self', { alpha: 0.95, T: 6, multiplier: 50 }],
].map(([id, family, scheme, defaults]) => ({ id, title: `${id} (test title)`, family, knowledge: 'response', scheme, paper: null, defaults } as MethodMeta));

/** A row recording every hyperparameter, as runs do: the method's defaults with `hp` over them. */
function row(dataset: string, method: string, student: string, seed: number, acc: number, over: Record<string, unknown> = {}): ReportRow {
  const hp = { ...METHODS.find((m) => m.id === method)!.defaults, ...over };
  return {
    run_id: `online-${dataset}-${method}-${student}-${JSON.stringify(over)}-${seed}`, method, family: 'online', knowledge: 'response', scheme: 'online',
    dataset, split: 'holdout', split_description: 'holdout [TEST DATA]', teacher: '', student, protocol: 'quick', protocol_label: LABEL,
    seed, epochs: 12, best_top1: acc, last_top1: acc, train_seconds: 10, images_per_second: 100, backend: 'wasm+native', teacher_top1: null,
    student_params: 1, student_flops: 1, git_commit: 'abc123def456', date: '2026-12-07T00:00:00Z', hyperparameters: JSON.stringify(hp),
    // online methods report every peer's accuracy (peer0 = the student), Rocket-KD its booster's
    details: JSON.stringify(method === 'dml' ? { extra: { peer0: acc, peer1: acc + 10 } } : method === 'rocket' ? { extra: { booster: acc - 5 } } : {}),
  };
}

const seeds = (dataset: string, method: string, student: string, acc: number, hp: Record<string, unknown> = {}) =>
  [1, 2, 3].map((s) => row(dataset, method, student, s, acc + s / 10, hp));

const rows = [
  ...seeds('cifar100', 'vanilla', 'resnet110', 30), ...seeds('cifar100', 'pcl', 'resnet110', 33),
  ...seeds('cifar100', 'pcl', 'resnet110', 34, { branches: 4 }), // not the published setting
  ...seeds('cifar100', 'dml', 'resnet32', 31, { peer: 'mobilenetv1' }), ...seeds('cifar100', 'dml', 'resnet32', 31, { peer: 'wrn_16_2' }),
  ...seeds('cifar100', 'rocket', 'wrn_16_1', 25), ...seeds('cifar100', 'ddgsd', 'densenet40_12', 29),
  ...seeds('cifar10', 'dml', 'resnet32', 60), // peer '' = the student's architecture: Table 5's ResNet32 + ResNet32 row
  ...seeds('cifar100', 'tfkdself', 'shufflenetv2', 40, { T: 20, multiplier: 1 }), // the authors' ShuffleNetV2 setting
];
const published = loadPublished();

describe('online and self rows of the survey', () => {
  it('name their partner network from the recorded (or default) hyperparameter', () => {
    const meta = new Map(METHODS.map((m) => [m.id, m]));
    expect(partnerOf(row('cifar100', 'dml', 'resnet32', 1, 0, { peer: 'mobilenetv1' }), meta)).toBe('mobilenetv1');
    expect(partnerOf(row('cifar100', 'dml', 'resnet32', 1, 0, { peer: '' }), meta)).toBe('resnet32');
    expect(partnerOf(row('cifar100', 'rocket', 'wrn_16_1', 1, 0), meta)).toBe('wrn_40_1');
    expect(partnerOf(row('cifar100', 'pcl', 'resnet110', 1, 0), meta)).toBeNull();
    expect(partnerOf({ ...row('cifar100', 'dml', 'resnet32', 1, 0), teacher: 'resnet56' }, meta)).toBeNull();
  });

  it('match the published row of their method, student and partner; other settings and partners match nothing', () => {
    const matched = buildLeaderboards(rows, METHODS).flatMap((board) => compare(board, published))
      .map((c) => `${c.stats.name}|${c.stats.student}|${c.published ? `${c.published.table}:${c.published.teacher}:${c.published.distilledAcc}` : '-'}`);
    expect(matched.sort()).toEqual([
      'ddgsd|densenet40_12|survey-t6::76.32',
      'dml [peer=mobilenetv1]|resnet32|survey-t6:MobileNet:71.1',
      'dml [peer=wrn_16_2]|resnet32|-',
      'dml|resnet32|survey-t5:ResNet32:92.8',
      'pcl [branches=4]|resnet110|-',
      'pcl|resnet110|survey-t6:student ensemble:79.98',
      'rocket|wrn_16_1|survey-t6:WRN-40-1:67',
      'tfkdself [T=20, multiplier=1]|shufflenetv2|-',
      'vanilla|resnet110|-',
    ]);
  });

  it('compare a non-default setting when a suite declares it for the pair, and say where', () => {
    const meta = new Map(METHODS.map((m) => [m.id, m]));
    const setting = (over: Partial<DeclaredSetting>): DeclaredSetting => ({
      dataset: 'cifar100', teacher: '', student: 'shufflenetv2', method: 'tfkdself', hyperparameters: { T: 20, multiplier: 1 }, declaredIn: 'benchmarks/survey-cifar100.yaml:136', ...over,
    });
    const tfkd = (declared: DeclaredSetting[]) => buildLeaderboards(rows, METHODS).flatMap((board) => compare(board, published, [], settingVariants(declared, meta)))
      .filter((c) => c.stats.method === 'tfkdself').map((c) => `${c.published?.distilledAcc ?? '-'} ${c.declaredIn ?? '-'}`);
    expect(settingVariants([setting({})], meta)[0]!.variant).toBe('T=20, multiplier=1');
    expect(tfkd([setting({})])).toEqual(['72.23 benchmarks/survey-cifar100.yaml:136']);
    // another dataset, student or value declares another setting
    expect(tfkd([setting({ dataset: 'cifar10' }), setting({ student: 'resnet18' }), setting({ hyperparameters: { T: 10, multiplier: 1 } })])).toEqual(['- -']);
  });

  it('show the partner network after online training beside the published one (DML: teacher then student)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kdbench-online-'));
    try {
      await buildSite({ rows, methods: METHODS, published, outDir: dir, generatedAt: 'test' });
      const page = readFileSync(join(dir, 'cifar100-quick.html'), 'utf8');
      const table = page.slice(page.indexOf('id="published-vs-measured"'));
      const dml = table.split('<tr').find((r) => r.includes('data-method="dml"') && r.includes('class="matched"'))!;
      // Table 6: MobileNet 73.65 alone, 76.13 after DML beside ResNet32; measured peer1 = 31.x + 10 over seeds 1-3
      expect(dml).toContain('73.65 → 76.13');
      expect(dml).toContain('→ 41.20');
      const pcl = table.split('<tr').find((r) => r.includes('data-method="pcl"') && r.includes('class="matched"'))!;
      expect(pcl).not.toContain('→');
      // survey.html: the partner after online training is DML's peer1 and Rocket-KD's booster (25.x - 5 over seeds 1-3)
      const survey = readFileSync(join(dir, 'survey.html'), 'utf8');
      const measured = (method: string) => survey.split('<tr').filter((r) => r.includes('class="measured"') && r.includes(`data-method="${method}"`));
      expect(measured('rocket').map((r) => /data-v="([\d.]*)">[\d.]*<\/td><\/tr>/.exec(r)?.[1])).toEqual(['20.2']);
      expect(measured('dml').map((r) => /data-v="([\d.]*)">[\d.]*<\/td><\/tr>/.exec(r)?.[1])).toEqual(expect.arrayContaining(['41.2', '70.2']));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
