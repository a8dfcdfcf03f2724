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

/** The zoo nets of the CRD benchmark's table (teachers and students). */
export const CRD_TABLE_MODELS = [
  'resnet8', 'resnet14', 'resnet20', 'resnet32', 'resnet44', 'resnet56', 'resnet110', 'resnet8x4', 'resnet32x4',
  'wrn_16_2', 'wrn_40_1', 'wrn_40_2', 'vgg8', 'vgg13', 'mobilenetv2', 'shufflenetv1', 'shufflenetv2',
] as const;

export const BENCH_HELP = `Usage: kdbench bench engine|train [options]

  engine   training steps of zoo nets on random batches, per backend (and per wasm kernel set)
  train    whole epochs through the trainer: data pipeline, teacher, evaluation

Both put PyTorch beside kdbench when python3-torch is installed (apt-get install -y python3-torch)
and print markdown tables to record in benchmarks/RESULTS.md. kdbench bench engine|train --help.`;

export const BENCH_ENGINE_HELP = `Usage: kdbench bench engine [options]

Times training steps (forward, cross-entropy, backward, SGD momentum) of zoo students on each backend
and, if python3-torch is installed (apt-get install -y python3-torch), the same nets in PyTorch
(benchmarks/engine/torch_step.py). Prints a markdown table, the kernels that ran, and per-kernel
shares with --profile.

Options:
  --models LIST      zoo ids (default resnet8,resnet20,vgg8; 'crd' for the CRD table's nets)
  --backends LIST    tfjs backends to time, in order (default auto: the one the resolver picks)
  --kernels LIST     on wasm with the native kernels built: native, wasm or both (default wasm,native)
  --repeat N         rounds of kdbench then PyTorch (default 1); the report gives medians
  --width X          width factor (default 1)
  --batch N          batch size (default 64)
  --steps N          timed steps per model (default 20), after --warmup N (default 3)
  --classes N        classifier size (default 100)
  --torch-threads N  PyTorch threads (default: number of cores; 0 skips PyTorch)
  --python PATH      Python with torch (default /usr/bin/python3)
  --profile          per-kernel time of one step`;

export const BENCH_TRAIN_HELP = `Usage: kdbench bench train [options]

Trains whole epochs as a run does (augmented batches, the method's losses, the teacher's forward pass
for kd, SGD, then evaluation on the test file) and, if python3-torch is installed, the same epochs in
PyTorch (benchmarks/engine/torch_epoch.py) on the same files; each configuration runs in its own
process, interleaved with PyTorch round by round. Prints images/s, where each epoch's time goes
(data, step, teacher, evaluation), peak memory, and memory after each epoch. Teachers have random
weights (the forward pass costs the same).

Options:
  --pairs LIST         student:teacher pairs (default resnet8:resnet20,resnet20:resnet56)
  --methods LIST       vanilla, kd (default vanilla,kd)
  --dataset D          cifar10 | cifar100 (default cifar10; evaluation needs its test file)
  --data-dir DIR       CIFAR data folder (default: $KDBENCH_DATA_DIR, else ~/.cache/kdbench/datasets)
  --train-per-class N  training images per class (default: all)
  --eval-per-class N   test images per class (default: all)
  --width X            width factor (default 1)
  --batch N            batch size (default 64)
  --epochs N           epochs per run (default 1; 2+ shows memory across epochs)
  --repeat N           rounds (default 1); the report gives medians
  --backend NAME       kdbench backend (default auto)
  --torch-threads N    PyTorch threads (default: number of cores; 0 skips PyTorch)
  --python PATH        Python with torch (default /usr/bin/python3)`;

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
  throw new ConfigError(`unknown bench '${what ?? ''}'. Available: engine, train\n\n${BENCH_HELP}`);
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
