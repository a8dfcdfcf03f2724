/** Builds the context a method is created with, from the run's models, training split and protocol. */
import type { Rng } from '@kdbench/engine';
import type { DatasetId, RawSplit } from '@kdbench/data';
import { createModel, type Model } from '@kdbench/models';
import type { Hyper, MethodContext, ProbeOptions } from './method.js';
import type { Protocol } from './protocols.js';
import { makeProbe } from './training/trainer.js';

export interface ContextInput<H extends Hyper> {
  hp: H;
  /** The run's dataset (default: cifar10 for 10 classes, cifar100 for 100). */
  dataset?: DatasetId;
  numClasses: number;
  student: Model;
  teacher?: Model;
  /** Extra teachers (a definition's extraTeachers, loaded from the store), in order. */
  teachers?: readonly Model[];
  train: RawSplit;
  epochs: number;
  batchSize: number;
  rng: Rng;
  /** The definition's data access: 'none' hides the training split's ids and labels too. */
  data?: 'labeled' | 'unlabeled' | 'none';
  /** Needed for ctx.probe (short candidate trainings); without it probe throws. */
  probe?: { dataset: DatasetId; protocol: Protocol; seed: number; lr: number };
}

export function methodContext<H extends Hyper>(a: ContextInput<H>): MethodContext<H> {
  const data = a.data ?? 'labeled';
  const deny = (what: string): never => {
    throw new Error(`this method declares data: '${data}' and may not read ${what} of the training split`);
  };
  const probe = a.probe && data !== 'none' ? makeProbe({ ...a.probe, train: a.train, teacher: a.teacher }) : undefined;
  const dataset = a.dataset ?? a.probe?.dataset ?? (a.numClasses === 100 ? 'cifar100' : 'cifar10');
  return {
    hp: a.hp,
    dataset,
    numClasses: a.numClasses,
    student: a.student,
    teacher: a.teacher,
    teachers: a.teachers ?? [],
    studentShapes: a.student.featureShapes(),
    teacherShapes: a.teacher?.featureShapes(),
    trainSize: a.train.n,
    get trainIds() {
      return data === 'none' ? deny('the record ids') : a.train.ids;
    },
    get trainLabels() {
      return data !== 'labeled' ? deny('the labels') : a.train.labels;
    },
    epochs: a.epochs,
    batchSize: a.batchSize,
    rng: a.rng,
    createNetwork(name, opts = {}) {
      return createModel(opts.model ?? a.student.id, {
        numClasses: opts.numClasses ?? a.numClasses,
        widthFactor: opts.widthFactor ?? a.student.options.widthFactor,
        seed: a.rng.fork(`network:${name}`).int(2 ** 31 - 1),
      }, opts.shared);
    },
    probe(model, opts: ProbeOptions) {
      if (!probe) throw new Error(data === 'none' ? "probe: a method with data: 'none' cannot train on the training split" : 'probe: not available in this context (no dataset/protocol given)');
      return probe(model, opts);
    },
  };
}
