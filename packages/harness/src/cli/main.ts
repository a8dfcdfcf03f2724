/** kdbench's command-line entry: dispatches sub-commands and turns known errors into one clear line. */
import { ConfigError, NonFiniteLossError, UnknownMethodError } from '@kdbench/core';
import { dataCommand } from './data-command.js';
import { methodsCommand, modelsCommand, teachersCommand } from './list-commands.js';
import { runCommand } from './run-command.js';
import { suiteCommand } from './suite-command.js';
import { resultsCommand } from './results-command.js';
import { reportCommand } from './report-command.js';
import { benchCommand } from './bench-command.js';

export const MAIN_HELP = `kdbench: knowledge-distillation benchmark on CIFAR (TensorFlow.js)

Usage: kdbench <command> [options]     (kdbench <command> --help for each)

Commands:
  run        train one student with one method; append the result to results.arrow
  methods    list registered methods
  models     list the model zoo with parameter and MAC counts
  teachers   list stored teachers
  data       fetch CIFAR-10/100 (kdbench data fetch cifar10)
  suite      run a benchmark suite file in worker processes (kdbench suite run benchmarks/smoke.yaml)
  results    merge results files of several machines (kdbench results merge A.arrow B.arrow --out C.arrow)
  report     render the static HTML leaderboards (kdbench report --results results --out reports/site)
  bench      engine throughput per backend beside PyTorch (kdbench bench engine --profile)

Example (quick CPU protocol on local data):
  npx kdbench run --dataset cifar10 --teacher resnet20 --student resnet8 --method kd --data-dir ../shared/datasets`;

const COMMANDS: Record<string, (argv: string[]) => number | Promise<number>> = {
  run: runCommand,
  methods: methodsCommand,
  models: modelsCommand,
  teachers: teachersCommand,
  data: dataCommand,
  suite: suiteCommand,
  results: resultsCommand,
  report: reportCommand,
  bench: benchCommand,
};

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(MAIN_HELP);
    return name ? 0 : 1;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`kdbench: unknown command '${name}'. Commands: ${Object.keys(COMMANDS).join(', ')}`);
    return 2;
  }
  try {
    return await command(rest);
  } catch (e) {
    if (e instanceof ConfigError || e instanceof UnknownMethodError || isDataError(e)) {
      console.error(`kdbench ${name}: ${(e as Error).message}`);
      return 2;
    }
    if (e instanceof NonFiniteLossError) {
      console.error(`kdbench ${name}: training diverged: ${e.message}. The last epoch's checkpoint is kept; lower the learning rate (--set lr=...) or the method's loss weights (--hp ...) and run again.`);
      return 3;
    }
    throw e;
  }
}

function isDataError(e: unknown): boolean {
  return e instanceof Error && (e.name === 'DataError' || e.constructor.name === 'DataError' || e.constructor.name === 'TensorFileError' || e.constructor.name === 'ResultsFileError');
}
