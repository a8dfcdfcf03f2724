/**
 * The help texts of every command, in one module that imports nothing heavy, so that
 * `kdbench <command> --help` prints without loading TensorFlow.js or the method packages.
 */
import { availableParallelism } from 'node:os';

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

export const COMMON_HELP = `Common options:
  --data-dir DIR   CIFAR data folder (default: $KDBENCH_DATA_DIR, else ~/.cache/kdbench/datasets)
  --results DIR    results folder: results.arrow, runs/, teachers/ (default: $KDBENCH_RESULTS_DIR, else ./results)
  --backend NAME   auto | tensorflow-gpu | tensorflow | wasm | cpu (default: auto, or $KDBENCH_BACKEND)
  -h, --help       this help`;

export const RUN_HELP = `Usage: kdbench run --dataset cifar10 --student resnet8 [--teacher resnet20] --method kd [options]

Trains one student with one method and appends one row to <results>/results.arrow.
The teacher is taken from the teacher store, or trained once (vanilla) and stored.
A run already in the results is skipped; an interrupted run resumes from its checkpoint.

Options:
  --dataset ID      cifar10 | cifar100
  --method ID       a registered method (kdbench methods)
  --student ID      a zoo model (kdbench models)
  --teacher ID      teacher model, for methods that need one
  --protocol ID     smoke | quick | paper (default quick)
  --seed N          student seed (default 1)
  --teacher-seed N  teacher seed (default 0: one teacher shared by all student seeds)
  --hp k=v,...      method hyperparameters (e.g. T=4,alpha=0.9)
  --set k=v,...     protocol overrides (e.g. epochs=2,trainPerClass=50, or a training recipe:
                    schedule=cosine,scheduleUnit=iteration,warmupEpochs=5,dropLast=true);
                    recorded in the label and the result
  --teacher-cache on|off  serve teacher logits from the teacher-output cache for logits-only
                    methods such as kd, dkd (default on, or $KDBENCH_TEACHER_CACHE)
${COMMON_HELP}`;

export const METHODS_HELP = `Usage: kdbench methods [--json]

Lists registered methods: id, family, knowledge type, scheme, paper, default hyperparameters and
the allowed values of the string hyperparameters that take one of a fixed set.`;

export const MODELS_HELP = `Usage: kdbench models [--classes N] [--width F]

Lists the model zoo with trainable parameters and multiply-accumulates per 32x32 image
(for N classes, default 100, at width factor F, default 1), beside the published counts
(marked with their class count when it differs from N). A model id may end in @<multiplier>
to scale its widths in a run or suite (resnet20@0.5).`;

export const TEACHERS_HELP = `Usage: kdbench teachers [--results DIR]
       kdbench teachers train --dataset ID --arch ID [--protocol ID] [--teacher-seed N] [--set k=v,...]

Lists the teachers in the teacher store (<results>/teachers): architecture, dataset, protocol,
seed, accuracy and content hash. 'train' trains one (vanilla) into the store if it is missing;
kdbench run does the same on demand.
${COMMON_HELP}`;

export const DATA_HELP = `Usage: kdbench data fetch cifar10|cifar100 [--data-dir DIR]

Downloads the official binary archive, verifies its md5, and extracts it into the data dir
(default: $KDBENCH_DATA_DIR, else ~/.cache/kdbench/datasets). Skips what is already there.
$KDBENCH_CIFAR_MIRROR replaces the official base URL.`;

export const SUITE_HELP = `Usage: kdbench suite run FILE [--protocol P] [--seeds N] [--workers N] [--shard i/n] [--dry-run]

Runs a suite file (benchmarks/*.yaml): every dataset x teacher/student pair x method x seed.
Jobs run in N worker processes in the file's order: each teacher once (into the teacher store),
just before the first run that needs it, so the pairs listed first finish first. Runs already in
<results>/results.arrow are skipped, interrupted ones resume from their checkpoints, a failed run
is reported and the suite goes on (exit code 1 if any failed).
Each job logs to <results>/logs/<id>.log, a line per epoch (losses, accuracy, seconds). The status
line's ETA weighs each job by its estimated time (multiply-accumulates, timed by the recorded rows
most like it, at the same network width first).

Options:
  --protocol ID     smoke | quick | paper (default: the suite's, else quick)
  --seeds N         student seeds 1..N for every pair (default: the suite's, or a pair's own)
  --workers N       worker processes (default: number of CPU cores, ${availableParallelism()} here; 0 = in this process)
  --shard i/n       only the runs whose run-id hash is i modulo n (0 <= i < n): split a suite across machines
  --set k=v,...     protocol settings on top of the suite's (recorded in each result's label)
  --teachers DIR    teacher store (default <results>/teachers): share one between results folders
  --teacher-cache on|off  teacher-output cache for logits-only methods (default on)
  --rerun M1,M2     train the runs of these methods again even if recorded (their rows are replaced),
                    e.g. after a fix to a method
  --skip-gpu-pairs  leave out the pairs marked 'gpu: true' (architectures too large for a CPU run)
  --dry-run         list the runs (and whether each is already recorded) and estimate the time of those
                    to run, without running anything
${COMMON_HELP}`;

export const RESULTS_HELP = `Usage: kdbench results merge A.arrow B.arrow [...] --out C.arrow [--force]
       kdbench results repair [--results DIR]

merge: combines results files (e.g. one per shard of a suite run on several machines) into one:
rows are deduplicated by run id (the latest-dated row wins: a rerun replaces the earlier run, as
suite run --rerun does in one file; on equal dates the first file's); files whose Arrow schema
differs from each other or from this kdbench's results schema are refused. An existing --out file is
merged into when it is listed among the inputs, and refused otherwise (--force replaces it).

repair: rebuilds <results>/results.arrow from the run records <results>/runs/<run id>/run.json
(every finished run writes one). A damaged file is kept beside it as results.arrow.damaged-<time>;
a readable one keeps all its rows and gains the recorded runs it lacks.
(default results folder: $KDBENCH_RESULTS_DIR, else ./results)`;

export const REPORT_HELP = `Usage: kdbench report [--results DIR|FILE] [--out DIR] [--metric last|best] [--published DIR] [--suites DIR] [--export-beside-results]

Renders a static HTML site (no server needed; open index.html): one leaderboard per dataset and
protocol (data-free, lifelong and quantized methods on boards of their own) with mean ± std over
seeds, 95% Student-t intervals from 3 seeds on, gain over the vanilla student, a Holm-corrected
paired t-test against KD, ranks, per-row provenance; inline SVG charts; the agreement (Kendall
tau-b) with the published tables; survey.html, the survey's Tables 5 and 6 row by row beside the
measured rows. Writes results.csv and results.json of the rows next to the site.

  --results DIR|FILE       results folder holding results.arrow, or an .arrow file
                           (default: $KDBENCH_RESULTS_DIR, else ./results)
  --out DIR                site folder (default: reports/site)
  --metric last|best       accuracy to rank by: last epoch (default, CRD convention) or best epoch
  --published DIR          published tables (default: benchmarks/published of this checkout)
  --suites DIR             suite files: pairs that declare 'reference:' (the published pair they
                           stand in for) and where each method runs (named on survey.html for
                           rows not measured yet); default: benchmarks/ of this checkout
  --export-beside-results  also write results.csv / results.json next to the Arrow file
  -h, --help               this help

Run artifacts (the files a run lists in its details, such as the data-free image grids) are read
from the runs/ folder beside the results file, <folder of the .arrow file>/runs/<run id>/, and
copied into <out>/artifacts/; runs whose folder is absent are shown without them.`;

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
