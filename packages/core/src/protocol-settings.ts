/**
 * The protocol settings a run may override (`kdbench run --set k=v,...`, a suite's `set:`), parsed
 * and checked into protocol overrides. Numbers must be positive (warmupEpochs may be 0); `augment`
 * and `dropLast` are true/false; `schedule` is multistep | cosine | constant, `milestones` fractions
 * of the run separated by '/' (e.g. 0.5/0.75), `lrDecay` the multistep factor; `scheduleUnit` is
 * epoch | iteration.
 */
import { getProtocol, type Protocol } from './protocols.js';
import { parseHyperList, ConfigError } from './registry.js';
import { SCHEDULE_UNITS, type Schedule } from './optim/schedule.js';

export const PROTOCOL_SETTINGS = ['epochs', 'teacherEpochs', 'batchSize', 'lr', 'lrLightStudents', 'momentum', 'weightDecay',
  'trainPerClass', 'evalPerClass', 'holdoutPerClass', 'widthFactor', 'augment',
  'schedule', 'milestones', 'lrDecay', 'scheduleUnit', 'warmupEpochs', 'dropLast'];

const SCHEDULE_KINDS = ['multistep', 'cosine', 'constant'] as const;
/** Settings that count something (epochs, images, a batch): whole numbers. */
const INTEGER_SETTINGS = ['epochs', 'teacherEpochs', 'batchSize', 'trainPerClass', 'evalPerClass', 'holdoutPerClass', 'warmupEpochs'];
const BOOLEAN_SETTINGS = ['augment', 'dropLast'];

function fail(message: string): never {
  throw new ConfigError(`--set: ${message}`);
}

function positive(k: string, raw: string, allowZero = false): number {
  const v = Number(raw);
  if (!Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) fail(`${k} must be a ${allowZero ? 'non-negative' : 'positive'} number, got '${raw}'`);
  return v;
}

/** The schedule after `schedule`, `milestones` and `lrDecay` settings, starting from the protocol's. */
function scheduleOf(base: Schedule, kind: string | undefined, milestones: string | undefined, decay: string | undefined): Schedule | undefined {
  if (kind === undefined && milestones === undefined && decay === undefined) return undefined;
  if (kind !== undefined && !(SCHEDULE_KINDS as readonly string[]).includes(kind)) fail(`schedule must be one of ${SCHEDULE_KINDS.join(', ')}, got '${kind}'`);
  const k = kind ?? base.kind;
  if (k !== 'multistep') {
    if (milestones !== undefined || decay !== undefined) fail(`milestones and lrDecay apply to schedule=multistep, not '${k}'`);
    return { kind: k as 'cosine' | 'constant' };
  }
  const from = base.kind === 'multistep' ? base : null;
  const ms = milestones === undefined
    ? from?.milestones ?? fail('schedule=multistep needs milestones (fractions of the run, e.g. milestones=0.5/0.75)')
    : milestones.split('/').map((m) => {
      const v = Number(m);
      if (!(v > 0 && v < 1)) fail(`milestones are fractions of the run in (0, 1) separated by '/', got '${milestones}'`);
      return v;
    });
  if (ms.some((m, i) => i > 0 && m <= ms[i - 1]!)) fail(`milestones must increase, got '${milestones}'`);
  const gamma = decay === undefined ? from?.gamma ?? 0.1 : positive('lrDecay', decay);
  return { kind: 'multistep', milestones: ms, gamma };
}

/** Parses `k=v,...` into protocol overrides, checking names and values. */
export function parseProtocolOverrides(protocolId: string, text: string | undefined): Partial<Protocol> {
  const protocol = getProtocol(protocolId); // validates the id
  const out: Record<string, unknown> = {};
  const raw = parseHyperList(text);
  for (const [k, v] of Object.entries(raw)) {
    if (!PROTOCOL_SETTINGS.includes(k)) fail(`unknown protocol setting '${k}' (settings: ${PROTOCOL_SETTINGS.join(', ')})`);
    if (k === 'schedule' || k === 'milestones' || k === 'lrDecay') continue;
    if (BOOLEAN_SETTINGS.includes(k)) {
      if (v !== 'true' && v !== 'false') fail(`${k} must be true or false, got '${v}'`);
      out[k] = v === 'true';
    } else if (k === 'scheduleUnit') {
      if (!(SCHEDULE_UNITS as readonly string[]).includes(v)) fail(`scheduleUnit must be one of ${SCHEDULE_UNITS.join(', ')}, got '${v}'`);
      out[k] = v;
    } else {
      const n = positive(k, v, k === 'warmupEpochs');
      if (INTEGER_SETTINGS.includes(k) && !Number.isInteger(n)) fail(`${k} must be a ${k === 'warmupEpochs' ? 'non-negative' : 'positive'} integer, got '${v}'`);
      out[k] = n;
    }
  }
  const schedule = scheduleOf(protocol.schedule, raw.schedule, raw.milestones, raw.lrDecay);
  if (schedule) out.schedule = schedule;
  return out as Partial<Protocol>;
}
