/**
 * Learning-rate schedules. `multistep` takes milestones as fractions of the run so a short protocol
 * keeps the shape of the CRD protocol (x0.1 at 150/180/210 of 240 epochs).
 *
 * A recipe adds how often the rate is updated (`unit`: once per epoch, as RepDistiller and
 * mdistiller do, or every iteration) and an optional linear warm-up over the first epochs.
 */
export type Schedule =
  | { kind: 'multistep'; milestones: number[]; gamma: number }
  | { kind: 'cosine' }
  | { kind: 'constant' };

export type ScheduleUnit = 'epoch' | 'iteration';
export const SCHEDULE_UNITS: readonly ScheduleUnit[] = ['epoch', 'iteration'];

/** Rate at training time `t` (in epochs, possibly fractional) of a run of `epochs` epochs. */
function rateAt(base: number, schedule: Schedule, t: number, epochs: number): number {
  switch (schedule.kind) {
    case 'constant':
      return base;
    case 'cosine':
      return 0.5 * base * (1 + Math.cos((Math.PI * t) / Math.max(1, epochs)));
    case 'multistep': {
      const passed = schedule.milestones.filter((m) => t >= Math.round(m * epochs)).length;
      return base * Math.pow(schedule.gamma, passed);
    }
  }
}

/** The rate of a whole epoch (updated once per epoch). */
export function learningRate(base: number, schedule: Schedule, epoch: number, epochs: number): number {
  return rateAt(base, schedule, epoch, epochs);
}

export interface ScheduleRecipe {
  readonly schedule: Schedule;
  /** 'epoch' (default) or 'iteration'. */
  readonly scheduleUnit?: ScheduleUnit;
  /** Linear warm-up epochs (default 0). */
  readonly warmupEpochs?: number;
}

/**
 * The rate of step `step` (0-based) of `steps` in epoch `epoch` of `epochs`. With unit 'epoch' the
 * rate is the epoch's (`learningRate`); with 'iteration' it is the schedule at t = epoch + step / steps.
 * A warm-up of W epochs multiplies it by min(1, (t + u) / W), u being one update (an epoch or a step),
 * so the rate rises linearly from base * u / W to the schedule's value.
 */
export function scheduledRate(base: number, recipe: ScheduleRecipe, epoch: number, step: number, steps: number, epochs: number): number {
  const perIteration = recipe.scheduleUnit === 'iteration';
  const t = perIteration ? epoch + step / Math.max(1, steps) : epoch;
  const rate = rateAt(base, recipe.schedule, t, epochs);
  const warmup = recipe.warmupEpochs ?? 0;
  if (!(warmup > 0)) return rate;
  const unit = perIteration ? 1 / Math.max(1, steps) : 1;
  return rate * Math.min(1, (t + unit) / warmup);
}

/** Whether the rate can change within an epoch (the trainer then sets it before every step). */
export function changesWithinEpoch(recipe: ScheduleRecipe): boolean {
  return recipe.scheduleUnit === 'iteration';
}

/** The CRD protocol's milestones (150, 180, 210 of 240 epochs) as fractions. */
export const CRD_MILESTONES = [150 / 240, 180 / 240, 210 / 240];
