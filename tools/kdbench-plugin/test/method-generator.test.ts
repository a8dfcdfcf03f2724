/**
 * The method generator on an in-memory tree holding copies of the real files it reads and edits
 * (packages/response, packages/feature's index, the registry, benchmarks/smoke.yaml), and on a
 * temporary copy of the disk (FsTree): generated files, export, registry line, suite entry,
 * refusal on re-run, bad options, and a generated loss that throws until written.
 */
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { FAMILIES, FsTree, generateMethod, MemoryTree, REGISTRY_PATH, type MethodOptions } from '../src/index.js';

const repo = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const read = (p: string) => readFileSync(join(repo, p), 'utf8');

function repoTree(): MemoryTree {
  const files: Record<string, string> = {
    [REGISTRY_PATH]: read(REGISTRY_PATH),
    'benchmarks/smoke.yaml': read('benchmarks/smoke.yaml'),
    'benchmarks/survey-cifar10.yaml': read('benchmarks/survey-cifar10.yaml'),
    'packages/response/package.json': read('packages/response/package.json'),
    'packages/feature/src/index.ts': read('packages/feature/src/index.ts'),
    'packages/core/src/index.ts': read('packages/core/src/index.ts'),
  };
  for (const dir of ['src', 'test']) {
    for (const f of readdirSync(join(repo, 'packages/response', dir))) {
      if (f.endsWith('.ts')) files[`packages/response/${dir}/${f}`] = read(`packages/response/${dir}/${f}`);
    }
  }
  return new MemoryTree(files);
}

const opts = (over: Partial<MethodOptions> = {}): MethodOptions => ({ name: 'l1kd', family: 'response', knowledge: 'response', scheme: 'offline', ...over });

describe('method generator (in memory)', () => {
  it('writes the method and its test, the export, the registry line and the suite entry', () => {
    const tree = repoTree();
    const res = generateMethod(tree, opts({ suite: 'benchmarks/smoke.yaml' }));
    expect(res.created).toEqual(['packages/response/src/l1kd.ts', 'packages/response/test/l1kd.test.ts']);
    expect(res.updated).toEqual(['packages/response/src/index.ts', REGISTRY_PATH, 'benchmarks/smoke.yaml']);

    const src = tree.read('packages/response/src/l1kd.ts')!;
    expect(src).toContain("export const l1kd = defineMethod({");
    expect(src).toContain("id: 'l1kd'");
    expect(src).toMatch(/family: 'response',\n\s+knowledge: 'response',\n\s+scheme: 'offline',\n\s+teacher: 'required'/);
    expect(src).toContain('defaults: { gamma: 1, beta: 1 }');
    expect(src).toMatch(/paper: \{[\s\S]*year: 0[\s\S]*url: 'TODO/);
    expect(src).toContain("throw new Error('l1kd: loss not written yet')");
    expect(src).toMatch(/^\/\*\*\n \* L1KD: TODO authors, "TODO paper title"/);

    const test = tree.read('packages/response/test/l1kd.test.ts')!;
    expect(test).toContain("from '@kdbench/core/testing'");
    expect(test).toContain("import { l1kd } from '../src/l1kd.js'");
    expect(test).toContain('const expected = NaN;');
    expect(test).toContain('toBeCloseTo(0.407606, 5)');

    const index = tree.read('packages/response/src/index.ts')!;
    expect(index.trimEnd().split('\n').at(-1)).toBe("export { l1kd } from './l1kd.js';");
    expect(index).toContain("export { kd } from './kd.js';");

    const registry = tree.read(REGISTRY_PATH)!;
    expect(registry).toContain("import { dkd, kd, l1kd, takd } from '@kdbench/response';");
    expect(registry).toMatch(/\.register\(takd\)\n {2}\.register\(l1kd\)\n/);
    // untouched elsewhere, still one statement ending with ';'
    expect(registry.match(/;\s*$/gm)?.length).toBe(read(REGISTRY_PATH).match(/;\s*$/gm)?.length);
    expect(registry.replace(/import \{ dkd, kd, l1kd, takd \}/, 'import { dkd, kd, takd }').replace('  .register(l1kd)\n', '')).toBe(read(REGISTRY_PATH));

    const suite = tree.read('benchmarks/smoke.yaml')!;
    expect(suite).toMatch(/^methods: \[vanilla, kd, dkd, l1kd\]$/m);
  });

  it('adds a registration at the end (moving the ;) for a family registered last, and fills a <family>Methods array', () => {
    const tree = repoTree();
    tree.write('packages/data-free/src/index.ts', "export { zskt } from './zskt.js';\n");
    generateMethod(tree, opts({ name: 'df2', family: 'data-free', knowledge: 'response' }));
    const registry = tree.read(REGISTRY_PATH)!;
    expect(registry).toMatch(/\.register\(zskt\)\n {2}\.register\(df2\);\n/);
    expect(registry).toContain("import { dafl, deepinv, df2, dfad, zskt } from '@kdbench/data-free';");

    generateMethod(tree, opts({ name: 'feat2', family: 'feature', knowledge: 'feature' }));
    const index = tree.read('packages/feature/src/index.ts')!;
    expect(index).toContain("import { feat2 } from './feat2.js';");
    expect(index).toContain("export { feat2 } from './feat2.js';");
    expect(index).toMatch(/featureMethods = \[fitnet, nst, ft, ab, vid(, \w+)*, feat2\] as const;/); // appended last, whatever the family holds today
  });

  it('appends to a block-style methods list', () => {
    const tree = repoTree();
    tree.write('benchmarks/block.yaml', 'name: b\nmethods:\n  - vanilla\n  - kd\npairs:\n  - { teacher: resnet8, student: resnet8 }\n');
    generateMethod(tree, opts({ suite: 'benchmarks/block.yaml' }));
    expect(tree.read('benchmarks/block.yaml')).toBe('name: b\nmethods:\n  - vanilla\n  - kd\n  - l1kd\npairs:\n  - { teacher: resnet8, student: resnet8 }\n');
  });

  it('refuses to re-run with an existing name (file or registration) and writes nothing', () => {
    const tree = repoTree();
    generateMethod(tree, opts());
    const snapshot = new Map(tree.files);
    expect(() => generateMethod(tree, opts())).toThrow(/method "l1kd" already exists \(packages\/response\/src\/l1kd\.ts exists; .*"l1kd" is already registered/);
    expect(() => generateMethod(repoTree(), opts({ name: 'kd' }))).toThrow(/method "kd" already exists .*packages\/response\/src\/kd\.ts exists/);
    // registered but without a file of that name (crdkd lives in crd.ts)
    expect(() => generateMethod(repoTree(), opts({ name: 'crdkd', family: 'response' }))).toThrow(/"crdkd" is already registered in packages\/harness\/src\/registry\.ts/);
    expect(tree.files).toEqual(snapshot);
  });

  it('rejects bad options with a clear message and writes nothing', () => {
    const cases: [Partial<MethodOptions>, RegExp][] = [
      [{ name: 'L1KD' }, /name "L1KD" is not a method id/],
      [{ name: 'l1-kd' }, /name "l1-kd" is not a method id/],
      [{ name: '1kd' }, /not a method id/],
      [{ family: 'core' }, /family "core" has no package: expected one of feature, response/],
      [{ family: 'online' }, /family "online" has no package/],
      [{ knowledge: 'logits' }, /knowledge "logits" is not one of response, feature, relation/],
      [{ scheme: 'teacher' }, /scheme "teacher" is not one of offline, online, self/],
      [{ suite: 'benchmarks/nope.yaml' }, /suite "benchmarks\/nope\.yaml" is not a suite file/],
      [{ suite: 'packages/response/package.json' }, /is not a suite file/],
    ];
    for (const [over, re] of cases) {
      const tree = repoTree();
      const before = new Map(tree.files);
      expect(() => generateMethod(tree, opts(over)), JSON.stringify(over)).toThrow(re);
      expect(tree.files).toEqual(before);
    }
    // a suite whose methods are only per pair
    expect(() => generateMethod(repoTree(), opts({ suite: 'benchmarks/survey-cifar10.yaml' }))).toThrow(/has no top-level "methods:" list/);
  });

  it('knows the families of the method contract', () => {
    const method = read('packages/core/src/method.ts');
    const list = method.match(/export const FAMILIES[^=]*=\s*\[([\s\S]*?)\]/)![1]!.match(/'([^']+)'/g)!.map((s) => s.slice(1, -1));
    expect([...FAMILIES]).toEqual(list);
  });
});

describe('method generator (temporary copy on disk)', () => {
  const tmp = join(repo, 'tools/kdbench-plugin/.tmp', `gen-${process.pid}`);
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('scaffolds a method whose loss throws until written', async () => {
    mkdirSync(tmp, { recursive: true });
    for (const p of ['packages/response/package.json', 'packages/response/src', 'packages/response/test', REGISTRY_PATH, 'benchmarks/smoke.yaml']) {
      cpSync(join(repo, p), join(tmp, p), { recursive: true });
    }
    const res = generateMethod(new FsTree(tmp), opts({ suite: 'benchmarks/smoke.yaml' }));
    expect(res.created.every((f) => readFileSync(join(tmp, f), 'utf8').length > 0)).toBe(true);
    expect(() => generateMethod(new FsTree(tmp), opts())).toThrow(/already exists/);
    // the generated module loads (its imports resolve through the workspace) and its loss is a stub
    const mod = await import(join(tmp, 'packages/response/src/l1kd.ts'));
    expect(mod.l1kd.id).toBe('l1kd');
    expect(() => mod.l1kdLoss({})).toThrow('l1kd: loss not written yet');
    const testing = await import('@kdbench/core/testing');
    const { tf } = await import('@kdbench/engine');
    await tf.setBackend('cpu');
    const f = [tf.zeros([1, 2, 2, 1]) as never];
    const inst = mod.l1kd.create(testing.ctxFor(mod.l1kd, f, f));
    const io = testing.stepIO(testing.fwd(f, tf.tensor2d([[1, 2, 0]])), testing.fwd(f, tf.tensor2d([[2, 0, 1]])), tf.tensor1d([1], 'int32'));
    expect(() => inst.losses(io)).toThrow('l1kd: loss not written yet');
  });
});
