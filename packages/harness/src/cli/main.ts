/**
 * kdbench's command-line entry: dispatches sub-commands, loading each command's module only when it
 * runs (so that `kdbench --help` loads nothing heavy), and turns every error into one line through
 * the error boundary (./errors.ts).
 */
import { EXIT, debugEnabled, reportError } from './errors.js';

export const MAIN_HELP = `kdbench: knowledge-distillation benchmark on CIFAR (TensorFlow.js)

Usage: kdbench <command> [options]     (kdbench <command> --help for each)

Commands:
  run        train one student with one method; append the result to results.arrow
  methods    list registered methods
  models     list the model zoo with parameter and MAC counts
  teachers   list stored teachers
  data       fetch CIFAR-10/100 (kdbench data fetch cifar10)
  suite      run a benchmark suite file in worker processes (kdbench suite run benchmarks/smoke.yaml)
  results    merge results files (kdbench results merge A.arrow B.arrow --out C.arrow), or rebuild a damaged one (kdbench results repair)
  report     render the static HTML leaderboards (kdbench report --results results --out reports/site)
  bench      engine throughput per backend beside PyTorch (kdbench bench engine --profile)

Global options:
  --debug    print the stack of an error (also KDBENCH_DEBUG=1)

Exit codes: 0 ok, 1 a suite had failed runs, 2 usage or configuration, 3 training diverged,
4 data or results file, 5 file system (cannot create, read or write), 6 internal error.

Example (quick CPU protocol on local data):
  npx kdbench run --dataset cifar10 --teacher resnet20 --student resnet8 --method kd --data-dir ../shared/datasets`;

type Command = (argv: string[]) => number | Promise<number>;

const COMMANDS: Record<string, () => Promise<Command>> = {
  run: async () => (await import('./run-command.js')).runCommand,
  methods: async () => (await import('./list-commands.js')).methodsCommand,
  models: async () => (await import('./list-commands.js')).modelsCommand,
  teachers: async () => (await import('./list-commands.js')).teachersCommand,
  data: async () => (await import('./data-command.js')).dataCommand,
  suite: async () => (await import('./suite-command.js')).suiteCommand,
  results: async () => (await import('./results-command.js')).resultsCommand,
  report: async () => (await import('./report-command.js')).reportCommand,
  bench: async () => (await import('./bench-command.js')).benchCommand,
};

/** Runs one command line; never throws: every error is printed as one line and mapped to an exit code (EXIT). */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const debug = argv.includes('--debug') || debugEnabled(env);
  const [name, ...rest] = argv.filter((a) => a !== '--debug');
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(MAIN_HELP);
    return name ? EXIT.ok : EXIT.usage;
  }
  const load = COMMANDS[name];
  if (!load) {
    console.error(`kdbench: unknown command '${name}'. Commands: ${Object.keys(COMMANDS).join(', ')} (kdbench --help)`);
    return EXIT.usage;
  }
  try {
    return await (await load())(rest);
  } catch (e) {
    return reportError(name, e, debug);
  }
}
