/**
 * The repository's layering (spec/ARCHITECTURE.md) holds, and the check fails on each kind of
 * planted violation: a family importing another family, an undeclared workspace import, a package
 * importing against the dependency direction, harness code below the CLI importing from cli/, a
 * benchmark script reaching into a package's files.
 */
import { describe, expect, it } from 'vitest';
import { importsOf, layeringFindings, repositoryRoot } from '../src/layering.js';

const root = repositoryRoot();

describe('layering', () => {
  it('reads static, re-export and dynamic imports', () => {
    expect(importsOf("import { a } from '@kdbench/core';\nexport * from './x.js';\nawait import('@kdbench/engine');\nimport 'side';\nimport {\n  b,\n} from '@kdbench/data';"))
      .toEqual(['@kdbench/core', './x.js', '@kdbench/data', 'side', '@kdbench/engine']);
    // an import inside a string is not an import of the file
    expect(importsOf("edit(f, (s) => s.replace(\"from '@kdbench/a';\", \"from '../../a/src/index.js';\"));")).toEqual([]);
  });

  it('the repository follows every rule', () => {
    expect(layeringFindings(root)).toEqual([]);
  });

  it('reports planted violations, one line each, naming the file', () => {
    const planted = [
      { path: 'packages/feature/src/planted.ts', content: "import { crd } from '@kdbench/relation';" },
      { path: 'packages/core/src/planted.ts', content: "import { registry } from '@kdbench/harness';" },
      { path: 'packages/harness/src/suite/planted.ts', content: "import { parse } from '../cli/args.js';" },
      { path: 'packages/response/src/planted.ts', content: "import { x } from '../../feature/src/fitnet.js';" },
      { path: 'benchmarks/scripts/planted.ts', content: "import { timeSteps } from '../../packages/harness/src/bench/engine-bench.js';\nimport { fitnet } from '@kdbench/feature';" },
    ];
    const found = layeringFindings(root, planted);
    expect(found).toEqual([
      'packages/feature/src/planted.ts: imports @kdbench/relation, not declared in packages/feature/package.json dependencies',
      'packages/feature/src/planted.ts: family @kdbench/feature imports family @kdbench/relation',
      'packages/core/src/planted.ts: imports @kdbench/harness, not declared in packages/core/package.json dependencies',
      'packages/core/src/planted.ts: @kdbench/core (layer 3) imports @kdbench/harness (layer 5), against the dependency direction',
      "packages/harness/src/suite/planted.ts: harness code below the CLI imports '../cli/args.js' from src/cli/",
      "packages/response/src/planted.ts: relative import '../../feature/src/fitnet.js' leaves @kdbench/response",
      "benchmarks/scripts/planted.ts: relative import '../../packages/harness/src/bench/engine-bench.js' leaves @kdbench/benchmarks",
      'benchmarks/scripts/planted.ts: imports @kdbench/feature, not declared in benchmarks/package.json',
    ]);
  });
});
