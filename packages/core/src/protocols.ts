/**
 * Training protocols. `paper` is the CRD benchmark's protocol (Tian et al., ICLR 2020) for GPU
 * machines; `quick` and `smoke` scale data, widths and epochs down for CPU machines and say so in
 * their label, which every result and chart carries.
 */
import type { DatasetId } from '@kdbench/data';
import { ConfigError } from './registry.js';
import { CRD_MILESTONES, type Schedule, type ScheduleUnit } from './optim/schedule.js';

export type ProtocolId = 'smoke' | 'quick' | 'paper';
export const PROTOCOL_IDS: readonly ProtocolId[] = ['smoke', 'quick', 'paper'];

export interface Protocol {
  readonly id: ProtocolId;
  /** One line shown on every result, chart and page. */
  readonly label: string;
  readonly epochs: number;
  /** Epochs for training teachers (stored in the teacher store and reused). */
  readonly teacherEpochs: number;
  readonly batchSize: number;
  readonly lr: number;
  /** Learning rate for MobileNetV2 / ShuffleNet students (CRD uses 0.01). */
  readonly lrLightStudents: number;
  readonly momentum: number;
  readonly weightDecay: number;
  readonly schedule: Schedule;
  /**
   * Training-recipe settings beyond the CRD protocol's, absent unless set (so every recorded run id
   * stays what it was): how often the rate is updated (default 'epoch'), linear warm-up epochs
   * (default 0), and whether the last incomplete batch of an epoch is dropped (default false, as
   * RepDistiller's and mdistiller's DataLoaders keep it).
   */
  readonly scheduleUnit?: ScheduleUnit;
  readonly warmupEpochs?: number;
  readonly dropLast?: boolean;
  /** Training records per class (undefined: all available). */
  readonly trainPerClass?: number;
  /** Evaluation records per class taken from the test split (undefined: all). */
  readonly evalPerClass?: number;
  /** Holdout per class when the data dir has no test file (CIFAR-100 here). */
  readonly holdoutPerClass: number;
  /** Channel-width multiplier applied to teacher and student. */
  readonly widthFactor: number;
  readonly augment: boolean;
}

const base = {
  batchSize: 64,
  lr: 0.05,
  lrLightStudents: 0.01,
  momentum: 0.9,
  weightDecay: 5e-4,
  schedule: { kind: 'multistep', milestones: CRD_MILESTONES, gamma: 0.1 } as Schedule,
  augment: true,
};

const PROTOCOLS: Record<ProtocolId, Protocol> = {
  paper: {
    ...base,
    id: 'paper',
    label: 'paper (CRD protocol): full data, full widths, 240 epochs, lr 0.05 x0.1 at 150/180/210, batch 64',
    epochs: 240,
    teacherEpochs: 240,
    holdoutPerClass: 20,
    widthFactor: 1,
  },
  quick: {
    ...base,
    id: 'quick',
    label: 'quick (CPU): 400 train + 100 eval images/class, widths x0.5, 12 epochs (teachers 24), lr x0.1 at 62.5/75/87.5%',
    epochs: 12,
    teacherEpochs: 24,
    trainPerClass: 400,
    evalPerClass: 100,
    holdoutPerClass: 20,
    widthFactor: 0.5,
  },
  smoke: {
    ...base,
    id: 'smoke',
    label: 'smoke (CI): 10 train + 10 eval images/class, widths x0.25, 1 epoch',
    batchSize: 32,
    epochs: 1,
    teacherEpochs: 1,
    trainPerClass: 10,
    evalPerClass: 10,
    holdoutPerClass: 10,
    widthFactor: 0.25,
  },
};

export function getProtocol(id: string): Protocol {
  const p = PROTOCOLS[id as ProtocolId];
  if (!p) throw new ConfigError(`unknown protocol '${id}'. Known protocols: ${PROTOCOL_IDS.join(', ')}`);
  return p;
}

/** Settings a protocol may leave out (absent means the default). */
const OPTIONAL_SETTINGS = ['trainPerClass', 'evalPerClass', 'scheduleUnit', 'warmupEpochs', 'dropLast'];

/** A setting's value as the label shows it (a schedule by its kind, milestones and factor). */
export function describeSetting(value: unknown): string {
  if (typeof value === 'object' && value !== null && 'kind' in value) {
    const s = value as Schedule;
    return s.kind === 'multistep' ? `multistep(${s.milestones.map((m) => +m.toFixed(4)).join('/')} x${s.gamma})` : s.kind;
  }
  return String(value);
}

/** Overrides for a protocol (suite files and tests use them); every key must exist. */
export function withOverrides(p: Protocol, overrides: Partial<Protocol>): Protocol {
  for (const key of Object.keys(overrides)) {
    if (!(key in p) && !OPTIONAL_SETTINGS.includes(key)) {
      throw new ConfigError(`protocol '${p.id}' has no setting '${key}'`);
    }
  }
  const keys = Object.keys(overrides);
  if (keys.length === 0) return p;
  const text = keys.map((k) => `${k}=${describeSetting(overrides[k as keyof Protocol])}`).join(', ');
  return { ...p, ...overrides, label: `${p.label} [overrides: ${text}]` };
}

/**
 * The training-recipe settings (schedule, its unit, warm-up, dropLast) where `p` departs from its
 * base protocol, as `k=v` text; undefined when it follows the base recipe. Teachers trained under
 * another recipe are different teachers, so this goes into their store key (only when set, so the
 * keys of teachers trained under the base recipe stay what they were).
 */
export function trainingRecipe(p: Protocol): string | undefined {
  const base = getProtocol(p.id);
  const parts: string[] = [];
  if (JSON.stringify(p.schedule) !== JSON.stringify(base.schedule)) parts.push(`schedule=${describeSetting(p.schedule)}`);
  if ((p.scheduleUnit ?? 'epoch') !== 'epoch') parts.push(`scheduleUnit=${p.scheduleUnit}`);
  if ((p.warmupEpochs ?? 0) > 0) parts.push(`warmupEpochs=${p.warmupEpochs}`);
  if (p.dropLast) parts.push('dropLast=true');
  return parts.length ? parts.join(', ') : undefined;
}

/** Per-dataset adjustments: the local CIFAR-100 has 100 records per class, all used. */
export function protocolForDataset(p: Protocol, dataset: DatasetId): Protocol {
  if (dataset === 'cifar100' && p.id === 'quick') {
    return { ...p, trainPerClass: undefined, label: p.label.replace('400 train + 100 eval images/class', 'all train images, 20/class holdout') };
  }
  return p;
}

/** Light students get the lower CRD learning rate. */
export function studentLearningRate(p: Protocol, studentId: string): number {
  return /^(mobilenet|shufflenet)/.test(studentId) ? p.lrLightStudents : p.lr;
}
