/**
 * kdbench's command-line entry: dispatches sub-commands, loading each command's module only when it
 * runs (so that `kdbench --help` and `kdbench <command> --help` load nothing heavy), and turns every
 * error into one line through the error boundary (./errors.ts).
 */
import { EXIT, debugEnabled, reportError } from './errors.js';
import {
  BENCH_HELP, DATA_HELP, MAIN_HELP, METHODS_HELP, MODELS_HELP, REPORT_HELP, RESULTS_HELP, RUN_HELP, SUITE_HELP, TEACHERS_HELP,
} from './help.js';

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

const HELP: Record<string, string> = {
  run: RUN_HELP, methods: METHODS_HELP, models: MODELS_HELP, teachers: TEACHERS_HELP, data: DATA_HELP, suite: SUITE_HELP,
  results: RESULTS_HELP, report: REPORT_HELP, bench: BENCH_HELP,
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
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(HELP[name]); // without loading the command's module
    return EXIT.ok;
  }
  try {
    return await (await load())(rest);
  } catch (e) {
    return reportError(name, e, debug);
  }
}
