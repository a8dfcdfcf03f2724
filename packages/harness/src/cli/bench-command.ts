/**
 * `kdbench bench engine` (training-step throughput per backend) and `kdbench bench train` (whole
 * epochs through the trainer), each with PyTorch beside it when installed.
 */
import os from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@kdbench/core';
import { BACKEND_NAMES, type BackendRequest } from '@kdbench/engine';
import { listModels } from '@kdbench/models';
import { defaultTorchScript, engineBench, type KernelChoice } from '../bench/engine-bench.js';
import { defaultTorchEpochScript, runEpochs, trainBench, type TrainConfig } from '../bench/train-bench.js';
import { dataDir, parse } from './args.js';
import { repoRoot } from '../paths.js';
import { BENCH_ENGINE_HELP, BENCH_HELP, BENCH_TRAIN_HELP } from './help.js';

/** The zoo nets of the CRD benchmark's table (teachers and students). */
export const CRD_TABLE_MODELS = [
  'resnet8', 'resnet14', 'resnet20', 'resnet32', 'resnet44', 'resnet56', 'resnet110', 'resnet8x4', 'resnet32x4',
  'wrn_16_2', 'wrn_40_1', 'wrn_40_2', 'vgg8', 'vgg13', 'mobilenetv2', 'shufflenetv1', 'shufflenetv2',
] as const;


const num = (name: string, text: string | undefined, min: number): number => {
  const v = Number(text);
  if (!Number.isFinite(v) || v < min) throw new ConfigError(`--${name} must be a number >= ${min}, got '${text}'`);
  return v;
};

const list = (text: string | undefined) => (text ?? '').split(',').map((s) => s.trim()).filter(Boolean);

function checkModels(models: string[]): void {
  const known = listModels().map((m) => m.id);
  for (const m of models) if (!known.includes(m)) throw new ConfigError(`unknown model '${m}'. Known models: ${known.join(', ')}`);
}

function checkBackend(b: string): BackendRequest {
  if (!(BACKEND_NAMES as readonly string[]).includes(b)) throw new ConfigError(`unknown backend '${b}'. Known: ${BACKEND_NAMES.join(', ')}`);
  return b as BackendRequest;
}

export async function benchCommand(argv: string[]): Promise<number> {
  const [what, ...rest] = argv;
  if (what === '--help' || what === '-h') return (console.log(BENCH_HELP), 0);
  if (what === 'engine') return benchEngine(rest);
  if (what === 'train') return benchTrain(rest);
  throw new ConfigError(`unknown bench '${what ?? ''}'. Available: engine, train (kdbench bench --help)`);
}

async function benchEngine(argv: string[]): Promise<number> {
  const { values: o } = parse(argv, {
    models: { type: 'string', default: 'resnet8,resnet20,vgg8' }, backends: { type: 'string', default: 'auto' },
    width: { type: 'string', default: '1' }, batch: { type: 'string', default: '64' }, steps: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '3' }, classes: { type: 'string', default: '100' }, 'torch-threads': { type: 'string' },
    python: { type: 'string', default: '/usr/bin/python3' }, profile: { type: 'boolean', default: false }, help: { type: 'boolean' },
    kernels: { type: 'string', default: 'wasm,native' }, repeat: { type: 'string', default: '1' },
  } as const, BENCH_ENGINE_HELP);
  if (o.help) return (console.log(BENCH_ENGINE_HELP), 0);
  const models = o.models === 'crd' ? [...CRD_TABLE_MODELS] : list(o.models);
  checkModels(models);
  const backends = list(o.backends).map(checkBackend);
  const kernels = list(o.kernels);
  for (const k of kernels) if (k !== 'native' && k !== 'wasm') throw new ConfigError(`unknown kernel set '${k}'. Known: native, wasm`);
  const report = await engineBench({
    models, backends, kernels: kernels as KernelChoice[], repeat: num('repeat', o.repeat, 1), width: num('width', o.width, 0.01),
    batch: num('batch', o.batch, 1), steps: num('steps', o.steps, 1), warmup: num('warmup', o.warmup, 0), classes: num('classes', o.classes, 2),
    torchThreads: num('torch-threads', o['torch-threads'] ?? String(os.cpus().length), 0),
    python: o.python!, torchScript: defaultTorchScript(repoRoot), profile: o.profile === true,
  });
  console.log(report);
  return 0;
}

async function benchTrain(argv: string[]): Promise<number> {
  const { values: o } = parse(argv, {
    pairs: { type: 'string', default: 'resnet8:resnet20,resnet20:resnet56' }, methods: { type: 'string', default: 'vanilla,kd' },
    dataset: { type: 'string', default: 'cifar10' }, 'data-dir': { type: 'string' }, 'train-per-class': { type: 'string' },
    'eval-per-class': { type: 'string' }, width: { type: 'string', default: '1' }, batch: { type: 'string', default: '64' },
    epochs: { type: 'string', default: '1' }, repeat: { type: 'string', default: '1' }, backend: { type: 'string', default: 'auto' },
    'torch-threads': { type: 'string' }, python: { type: 'string', default: '/usr/bin/python3' },
    single: { type: 'boolean', default: false }, help: { type: 'boolean' },
  } as const, BENCH_TRAIN_HELP);
  if (o.help) return (console.log(BENCH_TRAIN_HELP), 0);
  if (o.dataset !== 'cifar10' && o.dataset !== 'cifar100') throw new ConfigError(`unknown dataset '${o.dataset}'. Known: cifar10, cifar100`);
  const pairs = list(o.pairs).map((p) => {
    const [student, teacher, extra] = p.split(':');
    if (!student || !teacher || extra !== undefined) throw new ConfigError(`--pairs: '${p}' is not student:teacher`);
    checkModels([student, teacher]);
    return { student, teacher };
  });
  const methods = list(o.methods);
  for (const m of methods) if (m !== 'vanilla' && m !== 'kd') throw new ConfigError(`unknown method '${m}' for bench train. Known: vanilla, kd`);
  const configs: TrainConfig[] = pairs.flatMap((p) => methods.map((method) => ({ ...p, method: method as TrainConfig['method'] })));
  const options = {
    configs, dataset: o.dataset, dataDir: dataDir(o), width: num('width', o.width, 0.01), batch: num('batch', o.batch, 1),
    epochs: num('epochs', o.epochs, 1), repeat: num('repeat', o.repeat, 1), backend: checkBackend(o.backend!),
    ...(o['train-per-class'] !== undefined ? { trainPerClass: num('train-per-class', o['train-per-class'], 1) } : {}),
    ...(o['eval-per-class'] !== undefined ? { evalPerClass: num('eval-per-class', o['eval-per-class'], 1) } : {}),
    torchThreads: num('torch-threads', o['torch-threads'] ?? String(os.cpus().length), 0),
    python: o.python!, torchScript: defaultTorchEpochScript(repoRoot),
  } as const;
  if (o.single) {
    if (configs.length !== 1) throw new ConfigError('--single runs exactly one pair and one method');
    console.log(JSON.stringify(await runEpochs(configs[0]!, options)));
    return 0;
  }
  console.log(trainBench(options, join(repoRoot, 'packages', 'harness', 'bin', 'kdbench.js')));
  return 0;
}
