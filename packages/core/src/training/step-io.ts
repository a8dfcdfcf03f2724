/**
 * Builds the StepIO a method's losses see: forward passes computed on first read (so a player that
 * never looks at the student does not run it), and the data rules of the method's declaration
 * enforced: 'unlabeled' hides labels, 'none' hides images and labels.
 */
import type { tf } from '@kdbench/engine';
import type { ForwardResult, Model } from '@kdbench/models';
import type { StepIO } from '../method.js';

export type DataAccess = 'labeled' | 'unlabeled' | 'none';

export class DataAccessError extends Error {}

export interface StepInput {
  x: tf.Tensor4D;
  labels?: tf.Tensor1D;
  ids: Int32Array;
  student: Model;
  teacher?: ForwardResult;
  teachers?: readonly Model[];
  /** The extra teachers' outputs when already known (teacher-output cache); otherwise computed on first read. */
  teachersOut?: readonly ForwardResult[];
  companions?: StepIO['companions'];
  epoch: number;
  progress: number;
  step: number;
  stage: string;
  data: DataAccess;
  /** The batch is synthetic (data-free): x may be read even with data 'none'. */
  synthetic?: boolean;
  /** The student's training-mode forward leaves its batch-norm running statistics alone (a second pass over the batch). */
  keepRunningStats?: boolean;
}

export function makeStepIO(a: StepInput): StepIO {
  let student: ForwardResult | undefined;
  let teachers: readonly ForwardResult[] | undefined = a.teachersOut;
  const deny = (what: string): never => {
    throw new DataAccessError(`this method declares data: '${a.data}' and may not read ${what} of the training split`);
  };
  return {
    get x() {
      return a.data === 'none' && !a.synthetic ? deny('the images') : a.x;
    },
    get labels() {
      return a.data !== 'labeled' || !a.labels ? deny('the labels') : a.labels;
    },
    ids: a.ids,
    get student() {
      return (student ??= a.student.forward(a.x, a.keepRunningStats ? { training: true, hooks: { keepRunningStats: true } } : { training: true }));
    },
    teacher: a.teacher,
    get teachers() {
      return a.teachers ? (teachers ??= a.teachers.map((t) => t.forward(a.x, { training: false }))) : undefined;
    },
    companion: a.companions?.[0],
    companions: a.companions,
    epoch: a.epoch,
    progress: a.progress,
    step: a.step,
    stage: a.stage,
  };
}
