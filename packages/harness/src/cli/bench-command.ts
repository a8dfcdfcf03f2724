/** `kdbench bench engine`: training-step throughput per backend, with PyTorch beside it when installed. */
import { ConfigError } from '@kdbench/core';
import { BACKEND_NAMES, type BackendRequest } from '@kdbench/engine';
import { listModels } from '@kdbench/models';
import { defaultTorchScript, engineBench } from '../bench/engine-bench.js';
import { parse } from './args.js';
import { repoRoot } from '../paths.js';
import { BENCH_HELP } from './help.js';

export async function benchCommand(argv: string[]): Promise<number> {
  const [what, ...rest] = argv;
  if (what === '--help' || what === '-h') return (console.log(BENCH_HELP), 0);
  if (what !== 'engine') throw new ConfigError(`unknown bench '${what ?? ''}'. Available: engine (kdbench bench --help)`);
  const { values: o } = parse(rest, {
    models: { type: 'string', default: 'resnet8,resnet20,vgg8' }, backends: { type: 'string', default: 'auto' },
    width: { type: 'string', default: '1' }, batch: { type: 'string', default: '64' }, steps: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '3' }, classes: { type: 'string', default: '100' }, 'torch-threads': { type: 'string' },
    python: { type: 'string', default: '/usr/bin/python3' }, profile: { type: 'boolean', default: false }, help: { type: 'boolean' },
  } as const, BENCH_HELP);
  if (o.help) return (console.log(BENCH_HELP), 0);
  const known = listModels().map((m) => m.id);
  const models = o.models!.split(',').map((s) => s.trim()).filter(Boolean);
  for (const m of models) if (!known.includes(m)) throw new ConfigError(`unknown model '${m}'. Known models: ${known.join(', ')}`);
  const backends = o.backends!.split(',').map((s) => s.trim()) as BackendRequest[];
  for (const b of backends) if (!(BACKEND_NAMES as readonly string[]).includes(b)) throw new ConfigError(`unknown backend '${b}'. Known: ${BACKEND_NAMES.join(', ')}`);
  const num = (name: string, text: string | undefined, min: number): number => {
    const v = Number(text);
    if (!Number.isFinite(v) || v < min) throw new ConfigError(`--${name} must be a number >= ${min}, got '${text}'`);
    return v;
  };
  const report = await engineBench({
    models, backends, width: num('width', o.width, 0.01), batch: num('batch', o.batch, 1), steps: num('steps', o.steps, 1),
    warmup: num('warmup', o.warmup, 0), classes: num('classes', o.classes, 2),
    torchThreads: num('torch-threads', o['torch-threads'] ?? String((await import('node:os')).cpus().length), 0),
    python: o.python!, torchScript: defaultTorchScript(repoRoot), profile: o.profile === true,
  });
  console.log(report);
  return 0;
}
