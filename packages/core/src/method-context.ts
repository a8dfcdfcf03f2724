/** Builds the context a method is created with, from the run's models, training split and protocol. */
import type { Rng } from '@kdbench/engine';
import type { RawSplit } from '@kdbench/data';
import type { Model } from '@kdbench/models';
import type { Hyper, MethodContext } from './method.js';

export interface ContextInput<H extends Hyper> {
  hp: H;
  numClasses: number;
  student: Model;
  teacher?: Model;
  train: RawSplit;
  epochs: number;
  batchSize: number;
  rng: Rng;
}

export function methodContext<H extends Hyper>(a: ContextInput<H>): MethodContext<H> {
  return {
    hp: a.hp,
    numClasses: a.numClasses,
    student: a.student,
    teacher: a.teacher,
    studentShapes: a.student.featureShapes(),
    teacherShapes: a.teacher?.featureShapes(),
    trainSize: a.train.n,
    trainIds: a.train.ids,
    trainLabels: a.train.labels,
    epochs: a.epochs,
    batchSize: a.batchSize,
    rng: a.rng,
  };
}
