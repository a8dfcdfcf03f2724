import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expandSuite, loadSuite, parseShard, parseSuite, seedsText, shardOf } from '../src/suite/suite.js';
import { isSuiteFileName, loadSuiteDeclarations, suitePlacements, suiteReferences, suiteSettings } from '../src/suite/references.js';
import { pendingRuns } from '../src/suite/runner.js';
import { repoRoot } from './paths.js';

const base = `name: t
datasets: [cifar10]
methods: [vanilla, kd]
pairs:
  - teacher: resnet20
    student: resnet8
`;

function error(text: string, file = 'suite.yaml'): string {
  try {
    parseSuite(text, file);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected a validation error');
}

describe('suite files: validation with file and line', () => {
  it('names the file and line of an unknown method, model, dataset, protocol or field', () => {
    expect(error(base.replace('[vanilla, kd]', '[vanilla, kdd]'))).toMatch(/^suite\.yaml:3: unknown method 'kdd'\. Known methods: .*kd/);
    expect(error(base.replace('student: resnet8', 'student: resnet9'))).toMatch(/^suite\.yaml:6: unknown model 'resnet9' \(student\)/);
    expect(error(base.replace('student: resnet8', 'student: resnet8@0.50'))).toMatch(/^suite\.yaml:6: model 'resnet8@0\.50' \(student\): the width multiplier/);
    expect(parseSuite(base.replace('student: resnet8', 'student: resnet20@0.5'), 'suite.yaml').pairs[0]).toMatchObject({ student: 'resnet20@0.5' });
    expect(error(base.replace('[cifar10]', '[cifar10, svhn]'))).toMatch(/^suite\.yaml:2: unknown dataset 'svhn'/);
    expect(error(`${base}protocol: fast\n`)).toMatch(/^suite\.yaml:7: unknown protocol 'fast'\. Known protocols: smoke, quick, paper/);
    expect(error(`${base}    studnet: resnet8\n`)).toMatch(/^suite\.yaml:7: unknown field 'studnet' in pair 1/);
    expect(error(`seed: 3\n${base}`)).toMatch(/^suite\.yaml:1: unknown field 'seed' in the suite/);
    expect(error(`${base}    hp: { kd: { tau: 2 } }\n`)).toMatch(/^suite\.yaml:7: method 'kd' has no hyperparameter 'tau'/);
    expect(error(`${base}    set: { epoch: 2 }\n`)).toMatch(/^suite\.yaml:7: unknown protocol setting 'epoch'/);
    expect(error(`${base}set:\n  epochs: -1\n`)).toMatch(/^suite\.yaml:8: set: epochs must be a positive number/);
    expect(error(base.replace('  - teacher: resnet20\n', '  - '))).toMatch(/^suite\.yaml:5: method 'kd' needs a teacher but pair 1 has none/);
    expect(error('name: t\npairs: [1,\n')).toMatch(/^suite\.yaml:\d+(:\d+)?: not valid YAML\/JSON/);
  });

  it('reads JSON suites with line numbers too', () => {
    const json = '{\n  "name": "j",\n  "datasets": ["cifar10"],\n  "methods": ["vanilla"],\n  "pairs": [\n    {"student": "resnet8", "teacher": "vgg99"}\n  ]\n}\n';
    expect(error(json, 'suite.json')).toMatch(/^suite\.json:6: unknown model 'vgg99' \(teacher\)/);
    const ok = json.replace('vgg99', 'resnet20');
    expect(parseSuite(ok, 'suite.json').pairs[0]).toMatchObject({ student: 'resnet8', teacher: 'resnet20', methods: ['vanilla'] });
  });
});

describe('reference pairs', () => {
  const withRef = base.replace('    student: resnet8\n', '    student: resnet8\n    reference: { table: crd, teacher: resnet56, student: resnet20 }\n');

  it('reads a pair\'s reference: a published table and the pair it stands in for, one entry per dataset', () => {
    const suite = parseSuite(withRef.replace('[cifar10]', '[cifar10, cifar100]'), 'benchmarks/x.yaml');
    expect(suite.pairs[0]!.reference).toEqual({ table: 'crd', teacher: 'resnet56', student: 'resnet20', where: 'benchmarks/x.yaml:7' });
    expect(suiteReferences(suite)).toEqual(['cifar10', 'cifar100'].map((dataset) => ({
      dataset, teacher: 'resnet20', student: 'resnet8', table: 'crd', publishedTeacher: 'resnet56', publishedStudent: 'resnet20', declaredIn: 'benchmarks/x.yaml:7',
    })));
  });

  it('leaves run ids unchanged', () => {
    expect(expandSuite(parseSuite(withRef, 'a.yaml')).runs.map((r) => r.id)).toEqual(expandSuite(parseSuite(base, 'a.yaml')).runs.map((r) => r.id));
  });

  it('names the line of a bad reference', () => {
    expect(error(withRef.replace('table: crd', 'table: imagenet'))).toMatch(/^suite\.yaml:7: unknown published table 'imagenet'\. Tables: survey-t5, survey-t6, crd, dkd, datafree, hkd$/);
    expect(error(withRef.replace('teacher: resnet56', 'teacher: resnet57'))).toMatch(/^suite\.yaml:7: unknown model 'resnet57' \(reference teacher\)/);
    expect(error(withRef.replace(', student: resnet20', ''))).toBe("suite.yaml:7: reference needs 'student' (fields: table, teacher, student)");
    expect(error(withRef.replace('table: crd', 'tabel: crd'))).toMatch(/^suite\.yaml:7: unknown field 'tabel' in reference/);
    const noTeacher = 'name: t\ndatasets: [cifar10]\nmethods: [vanilla]\npairs:\n  - student: resnet8\n    reference: { table: crd, teacher: resnet56, student: resnet20 }\n';
    expect(error(noTeacher)).toMatch(/^suite\.yaml:6: pair 1 has a reference but no teacher/);
  });

  it('collects the declarations of a folder of suites, naming a file that does not load', () => {
    const d = mkdtempSync(join(tmpdir(), 'kdb-refs-'));
    writeFileSync(join(d, 'a.yaml'), withRef);
    writeFileSync(join(d, 'b.yaml'), base);
    writeFileSync(join(d, 'c.yaml'), 'name: [');
    // the folder's npm and TypeScript project files are not suites (benchmarks/ is also the scripts' project)
    writeFileSync(join(d, 'package.json'), '{ "name": "@kdbench/benchmarks" }');
    writeFileSync(join(d, 'tsconfig.json'), '{ "include": ["scripts"] }');
    writeFileSync(join(d, 'project.json'), '{ "name": "benchmarks" }');
    const warnings: string[] = [];
    const refs = loadSuiteDeclarations(d, (l) => warnings.push(l)).references;
    expect(refs.map((r) => `${r.dataset} ${r.teacher}->${r.student} ${r.table} ${r.publishedTeacher}->${r.publishedStudent}`)).toEqual(['cifar10 resnet20->resnet8 crd resnet56->resnet20']);
    expect(refs[0]!.declaredIn).toMatch(/a\.yaml:7$/);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^report: the pairs \(references, settings, placements\) of .*c\.yaml skipped: .*c\.yaml:1/);
  });

  it('reads the settings a pair declares (its hp), per dataset and method, for the report to compare with the pair\'s published rows', () => {
    const suite = parseSuite('name: t\ndatasets: [cifar10, cifar100]\nmethods: [vanilla, kd, dkd]\nhp: { kd: { T: 2 } }\npairs:\n  - teacher: resnet20\n    student: resnet8\n    hp: { dkd: { beta: 6 } }\n', 'benchmarks/x.yaml');
    expect(suiteSettings(suite).map((d) => `${d.dataset} ${d.teacher}->${d.student} ${d.method} ${JSON.stringify(d.hyperparameters)} ${d.declaredIn}`)).toEqual([
      'cifar10 resnet20->resnet8 kd {"T":2} benchmarks/x.yaml:6', 'cifar10 resnet20->resnet8 dkd {"beta":6} benchmarks/x.yaml:6',
      'cifar100 resnet20->resnet8 kd {"T":2} benchmarks/x.yaml:6', 'cifar100 resnet20->resnet8 dkd {"beta":6} benchmarks/x.yaml:6',
    ]);
    const shipped = loadSuiteDeclarations(join(repoRoot, 'benchmarks'), () => {}).settings;
    expect(shipped.filter((d) => d.dataset === 'cifar100' && d.student === 'shufflenetv2' && d.method === 'tfkdself').map((d) => d.hyperparameters)).toEqual([{ T: 20, multiplier: 1 }]);
  });

  it('placements: every dataset, pair and method a suite runs, with a teacher-free method\'s partner network and the GPU mark', () => {
    const suite = parseSuite('name: t\ndatasets: [cifar100]\npairs:\n  - teacher: resnet20\n    student: resnet8\n    methods: [vanilla, kd]\n  - student: resnet32\n    methods: [dml, one]\n    hp: { dml: { peer: mobilenetv1 } }\n  - student: wrn_16_1\n    methods: [rocket]\n    gpu: true\n', 'benchmarks/x.yaml');
    expect(suitePlacements(suite).map((p) => `${p.dataset} ${p.teacher}->${p.student} ${p.method} partner=${p.partner} ${p.where}${p.gpu ? ' gpu' : ''}`)).toEqual([
      'cifar100 resnet20->resnet8 vanilla partner=null benchmarks/x.yaml:4', 'cifar100 resnet20->resnet8 kd partner=null benchmarks/x.yaml:4',
      'cifar100 ->resnet32 dml partner=mobilenetv1 benchmarks/x.yaml:7', 'cifar100 ->resnet32 one partner=null benchmarks/x.yaml:7',
      'cifar100 ->wrn_16_1 rocket partner=wrn_40_1 benchmarks/x.yaml:10 gpu', // Rocket's default booster
    ]);
  });

  it('the CRD subset suites declare the CRD table\'s resnet56 -> resnet20', () => {
    const refs = loadSuiteDeclarations(join(repoRoot, 'benchmarks'), () => {}).references;
    for (const dataset of ['cifar10', 'cifar100']) {
      expect(refs.filter((r) => r.dataset === dataset && r.teacher === 'resnet20' && r.student === 'resnet8').map((r) => `${r.table} ${r.publishedTeacher} ${r.publishedStudent}`), dataset).toEqual(['crd resnet56 resnet20']);
    }
  });
});

describe('suite grid expansion', () => {
  const suite = parseSuite(`name: g
datasets: [cifar10, cifar100]
seeds: [1, 2]
methods: [vanilla, kd, fitnet]
hp: { kd: { T: 2 } }
set: { epochs: 3 }
pairs:
  - teacher: resnet20
    student: resnet8
  - teacher: resnet56
    student: resnet8
    methods: [kd, dkd]
    hp: { dkd: { beta: 2 } }
    set: { batchSize: 32 }
    datasets: [cifar100]
`, 'g.yaml');

  it('expands datasets x pairs x methods x seeds, deduplicating teacher-free runs and teachers', () => {
    const plan = expandSuite(suite, { protocol: 'smoke' });
    // pair 1: 2 datasets x 3 methods x 2 seeds = 12; pair 2: 1 dataset x 2 methods x 2 seeds = 4
    expect(plan.runs).toHaveLength(16);
    expect(new Set(plan.runs.map((r) => r.id)).size).toBe(16);
    expect(plan.teachers.map((t) => t.label).sort()).toEqual(['teacher resnet20 cifar10 s0', 'teacher resnet20 cifar100 s0', 'teacher resnet56 cifar100 s0']);
    // a run's label names what sets it apart: the pair's hp for the method and its protocol settings
    const kd = plan.runs.find((r) => r.label === 'cifar10 kd resnet20->resnet8 [T=2,epochs=3] s2')!;
    expect(plan.runs.find((r) => r.request.method === 'dkd')!.label).toBe('cifar100 dkd resnet56->resnet8 [beta=2,epochs=3,batchSize=32] s1');
    expect(kd.request).toMatchObject({ protocol: 'smoke', seed: 2, hp: { T: '2' }, protocolOverrides: { epochs: 3 } });
    const dkd = plan.runs.find((r) => r.request.method === 'dkd')!;
    expect(dkd.request).toMatchObject({ dataset: 'cifar100', teacher: 'resnet56', hp: { beta: '2' }, protocolOverrides: { epochs: 3, batchSize: 32 } });
    // a second pair with the same student adds no vanilla run: vanilla ignores the teacher
    const twoPairs = parseSuite(base.replace('vanilla, kd', 'vanilla') + '  - teacher: resnet56\n    student: resnet8\n', 's.yaml');
    expect(expandSuite(twoPairs).runs).toHaveLength(3); // one per seed: a suite without seeds runs 3
    expect(expandSuite(twoPairs).runs.map((r) => r.request.seed)).toEqual([1, 2, 3]);
    expect(expandSuite(twoPairs).teachers).toHaveLength(0);
  });

  it('--seeds and --protocol replace the suite\'s; run ids change with the protocol', () => {
    const quick = expandSuite(suite, { seeds: [1, 2, 3] });
    expect(quick.runs).toHaveLength(24);
    expect(quick.protocol).toBe('quick');
    const smoke = expandSuite(suite, { protocol: 'smoke', seeds: [1, 2, 3] });
    expect(smoke.runs.map((r) => r.id)).not.toEqual(quick.runs.map((r) => r.id));
  });

  it('a pair may run its own seeds (more on a cheap pair); --seeds replaces them too', () => {
    const own = parseSuite(`name: o
datasets: [cifar10]
methods: [vanilla, kd]
pairs:
  - teacher: resnet20
    student: resnet8
    seeds: 5
  - teacher: resnet56
    student: resnet20
    seeds: [2, 7]
  - teacher: resnet56
    student: resnet14
`, 'o.yaml');
    const plan = expandSuite(own);
    const seedsOf = (student: string, method: string) => plan.runs.filter((r) => r.request.student === student && r.request.method === method).map((r) => r.request.seed);
    expect(seedsOf('resnet8', 'kd')).toEqual([1, 2, 3, 4, 5]);
    expect(seedsOf('resnet8', 'vanilla')).toEqual([1, 2, 3, 4, 5]);
    expect(seedsOf('resnet20', 'kd')).toEqual([2, 7]);
    expect(seedsOf('resnet14', 'kd')).toEqual([1, 2, 3]); // the suite's (default) seeds
    expect(plan.runs).toHaveLength(10 + 4 + 6);
    expect(seedsText(plan)).toBe('1,2,3; 1-5 on 1 pair; 2,7 on 1 pair');
    const cli = expandSuite(own, { seeds: [1, 2] });
    expect(cli.runs).toHaveLength(12);
    expect(seedsText(cli)).toBe('1,2');
    // a bad value is reported at its line
    expect(() => parseSuite(`name: b\ndatasets: [cifar10]\nmethods: [kd]\npairs:\n  - teacher: resnet20\n    student: resnet8\n    seeds: 0\n`, 'b.yaml'))
      .toThrow(/^b\.yaml:7: seeds must be a count >= 1 or a list of seeds, got 0$/);
  });

  it('shards are deterministic, disjoint and cover the suite; each needs only its teachers', () => {
    const all = expandSuite(suite, { protocol: 'smoke' });
    const shards = [0, 1, 2].map((index) => expandSuite(suite, { protocol: 'smoke', shard: { index, count: 3 } }));
    expect(shards.flatMap((s) => s.runs.map((r) => r.id)).sort()).toEqual(all.runs.map((r) => r.id).sort());
    expect(shards.map((s) => s.runs.length).every((n) => n > 0)).toBe(true);
    expect(expandSuite(suite, { protocol: 'smoke', shard: { index: 1, count: 3 } }).runs).toEqual(shards[1]!.runs);
    for (const s of shards) {
      const needed = new Set(s.runs.flatMap((r) => r.teacherKeys));
      expect(new Set(s.teachers.map((t) => t.key))).toEqual(needed);
    }
    expect(shardOf('ffffffffffffffff', 2)).toBe(1);
    expect(parseShard('1/4')).toEqual({ index: 1, count: 4 });
    expect(() => parseShard('4/4')).toThrow(/0 <= i < n/);
  });

  it('pending runs: the unrecorded ones, plus every run of a method asked to rerun', () => {
    const plan = expandSuite(suite, { protocol: 'smoke' });
    const recorded = new Set(plan.runs.filter((r) => r.request.method !== 'fitnet').map((r) => r.id));
    expect(pendingRuns(plan, recorded).map((r) => r.request.method)).toEqual(['fitnet', 'fitnet', 'fitnet', 'fitnet']);
    const again = pendingRuns(plan, recorded, new Set(['dkd']));
    expect(again.filter((r) => r.request.method === 'dkd')).toHaveLength(2); // cifar100 only, 2 seeds
    expect(again.map((r) => Boolean(r.request.rerun))).toEqual(again.map((r) => r.request.method === 'dkd'));
    expect(again).toHaveLength(6);
    expect(pendingRuns(plan, new Set(plan.runs.map((r) => r.id)))).toHaveLength(0);
  });

  it('--skip-gpu-pairs leaves out the pairs marked gpu: true, and their teachers', () => {
    const text = base + '  - teacher: resnet56\n    student: resnet20\n    gpu: true\n';
    const all = expandSuite(parseSuite(text, 'g.yaml'));
    const cpu = expandSuite(parseSuite(text, 'g.yaml'), { skipGpuPairs: true });
    expect(all.runs.filter((r) => r.request.student === 'resnet20')).toHaveLength(6); // vanilla and kd, 3 seeds
    expect(cpu.runs.map((r) => r.request.student)).toEqual(Array(6).fill('resnet8'));
    expect(cpu.teachers.map((t) => t.label)).toEqual(['teacher resnet20 cifar10 s0']);
    expect([all.skippedGpuPairs, cpu.skippedGpuPairs]).toEqual([0, 1]);
    // run ids do not depend on the flag
    expect(cpu.runs.map((r) => r.id)).toEqual(all.runs.filter((r) => r.request.student === 'resnet8').map((r) => r.id));
    expect(error(base + '    gpu: yes\n', 'g.yaml')).toBe("g.yaml:7: gpu must be true or false, got 'yes'");
    // a narrower CPU counterpart of a pair: its runs and its teacher say their width
    const quarter = expandSuite(parseSuite(base + '  - teacher: resnet56\n    student: resnet20\n    set: { widthFactor: 0.25 }\n', 'q.yaml'));
    expect(quarter.teachers.map((t) => t.label)).toEqual(['teacher resnet20 cifar10 s0', 'teacher resnet56 cifar10 [widthFactor=0.25] s0']);
    expect(quarter.runs.filter((r) => r.request.student === 'resnet20' && r.request.seed === 1).map((r) => r.label))
      .toEqual(['cifar10 vanilla resnet20 [widthFactor=0.25] s1', 'cifar10 kd resnet56->resnet20 [widthFactor=0.25] s1']);
  });
});

describe('the shipped suites', () => {
  const dir = join(repoRoot, 'benchmarks');
  const files = readdirSync(dir).filter(isSuiteFileName);

  it.each(files)('%s is valid and expands under every protocol', (f) => {
    const suite = loadSuite(join(dir, f));
    for (const protocol of ['smoke', 'quick', 'paper']) {
      const plan = expandSuite(suite, { protocol });
      expect(plan.runs.length).toBeGreaterThan(0);
    }
  });

  it('includes the survey, CRD and smoke suites', () => {
    expect(files).toEqual(expect.arrayContaining(['smoke.yaml', 'survey-cifar10.yaml', 'survey-cifar100.yaml', 'crd-cifar100.yaml']));
  });

  it('reports a file that cannot be read', () => {
    const d = mkdtempSync(join(tmpdir(), 'kdb-suite-'));
    writeFileSync(join(d, 'x.yaml'), base);
    expect(loadSuite(join(d, 'x.yaml')).name).toBe('t');
    expect(() => loadSuite(join(d, 'missing.yaml'))).toThrow(/missing\.yaml: cannot read: no such file \(ENOENT\)$/);
  });
});

describe('suite files: every problem, each at its own line', () => {
  it('reports all problems of a file in line order, not just the first', () => {
    const text = `name: t
datasets: [cifar10, svhn]
methods: [vanilla, kdd]
set: { epochs: 1.5, epoch: 2 }
pairs:
  - teacher: resnet20
    student: resnet9
  - student: resnet8
    hp: { dml: { peer: big } }
`;
    expect(error(text).split('\n')).toEqual([
      expect.stringMatching(/^suite\.yaml:2: unknown dataset 'svhn'/),
      expect.stringMatching(/^suite\.yaml:3: unknown method 'kdd'/),
      "suite.yaml:4: set: epochs must be a positive integer, got '1.5'",
      expect.stringMatching(/^suite\.yaml:4: unknown protocol setting 'epoch'/),
      expect.stringMatching(/^suite\.yaml:7: unknown model 'resnet9' \(student\)/),
      expect.stringMatching(/^suite\.yaml:9: method 'dml': hyperparameter 'peer' must be one of '', 'resnet8', .* got 'big'$/),
    ]);
  });

  it('puts a multi-teacher method\'s teacher problem at the hp that sets it', () => {
    const text = `name: t
datasets: [cifar10]
methods: [avgkd]
pairs:
  - teacher: resnet20
    student: resnet8
    hp:
      avgkd: { teachers: 'resnet99:1' }
`;
    expect(error(text)).toMatch(/^suite\.yaml:8: method 'avgkd': teachers entry 'resnet99:1': unknown model 'resnet99'/);
  });
});
