/**
 * Learning-rate schedules, evaluated per epoch. `multistep` takes milestones as fractions of the
 * run so a short protocol keeps the shape of the CRD protocol (x0.1 at 150/180/210 of 240 epochs).
 */
export type Schedule =
  | { kind: 'multistep'; milestones: number[]; gamma: number }
  | { kind: 'cosine' }
  | { kind: 'constant' };

export function learningRate(base: number, schedule: Schedule, epoch: number, epochs: number): number {
  switch (schedule.kind) {
    case 'constant':
      return base;
    case 'cosine':
      return 0.5 * base * (1 + Math.cos((Math.PI * epoch) / Math.max(1, epochs)));
    case 'multistep': {
      const passed = schedule.milestones.filter((m) => epoch >= Math.round(m * epochs)).length;
      return base * Math.pow(schedule.gamma, passed);
    }
  }
}

/** The CRD protocol's milestones (150, 180, 210 of 240 epochs) as fractions. */
export const CRD_MILESTONES = [150 / 240, 180 / 240, 210 / 240];
