/**
 * Reference pairs: a CPU-sized pair standing in for a published one. A suite pair declares it
 * (`reference: { table: crd, teacher: resnet56, student: resnet20 }` in benchmarks/*.yaml); the
 * harness reads the declarations from the suite files and hands them to the report, which matches
 * a leaderboard's rows to the published rows of that table and pair by (dataset, teacher, student).
 * The declaration belongs to the pair, not to a run: rows written before it existed match too,
 * and changing it never needs a rerun.
 */
import { pairLabel } from './leaderboard.js';

export interface PairReference {
  /** The measured pair: dataset and kdbench model ids. */
  dataset: string;
  teacher: string;
  student: string;
  /** Published table id (PUBLISHED_TABLE_IDS) and the pair it stands in for, as kdbench model ids. */
  table: string;
  publishedTeacher: string;
  publishedStudent: string;
  /** Where it is declared (`benchmarks/crd-subset-cifar100.yaml:25`). */
  declaredIn: string;
}

/**
 * A suite pair's hyperparameters for a method (`hp: { dkd: { beta: 2 } }` on a pair): the setting
 * the suite runs for that pair, usually the paper's own for it (DKD's beta per pair, Tf-KD's per-model
 * settings). A row in that setting is compared with the published row of its pair although its
 * hyperparameters differ from the method's defaults.
 */
export interface DeclaredSetting {
  dataset: string;
  /** '' for a teacher-free pair. */
  teacher: string;
  student: string;
  method: string;
  hyperparameters: Record<string, string | number | boolean>;
  /** Where the pair is defined (`benchmarks/survey-cifar100.yaml:136`). */
  declaredIn: string;
}

/**
 * Where a suite runs a method on a pair (one entry per dataset): for a published row nothing has
 * measured yet, the survey page names the suite pair that would run it, or says it is sized for GPU
 * machines.
 */
export interface SuitePlacement {
  dataset: string;
  /** '' for a teacher-free pair. */
  teacher: string;
  student: string;
  method: string;
  /** The network a teacher-free method trains beside the student (partnerOf: DML's peer, Rocket's booster), else null. */
  partner: string | null;
  /** Where the pair is defined (`benchmarks/survey-cifar100.yaml:48`). */
  where: string;
  /** The pair is marked `gpu: true` (left out of CPU runs). */
  gpu: boolean;
}

/** `stands in for resnet56 → resnet20 of the CRD table (CIFAR-100)`. */
export function standsInText(r: PairReference, tableTitle: string): string {
  return `stands in for ${pairLabel(r.publishedTeacher, r.publishedStudent)} of the ${tableTitle}`;
}

/** The declarations for a measured pair on a dataset; identical declarations from several suites count once. */
export function referencesOf(refs: readonly PairReference[], dataset: string, teacher: string, student: string): PairReference[] {
  const seen = new Set<string>();
  return refs.filter((r) => {
    if (r.dataset !== dataset || r.teacher !== teacher || r.student !== student) return false;
    const k = `${r.table}|${r.publishedTeacher}|${r.publishedStudent}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
