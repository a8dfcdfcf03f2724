/**
 * The label a result shows: the protocol's label with the values an override changed written in.
 * `Protocol.label` itself keeps its original text ("... 1 epoch [overrides: epochs=2]") because the
 * protocol object is part of the run id; this function turns it into "... 2 epochs (teachers 1)
 * [overrides: epochs=2]". It reads only the label, so it also fixes labels of recorded rows, and
 * applying it twice changes nothing.
 */
import { PROTOCOL_IDS, getProtocol, type ProtocolId } from '@kdbench/core';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function effectiveLabel(label: string): string {
  const m = /^(.*) \[overrides: (.*)\]$/.exec(label);
  if (!m) return label;
  const overrides = new Map(m[2]!.split(', ').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as const));
  let text = m[1]!;
  const get = (k: string) => overrides.get(k);
  const id = text.split(' ')[0] as ProtocolId;
  const base = PROTOCOL_IDS.includes(id) ? getProtocol(id) : undefined;
  const epochs = get('epochs');
  const teacherEpochs = get('teacherEpochs');
  if (epochs !== undefined || teacherEpochs !== undefined) {
    const e = Number(epochs ?? base?.epochs);
    const t = Number(teacherEpochs ?? base?.teacherEpochs);
    if (/\(teachers \d+\)/.test(text)) {
      text = text.replace(/\b\d+ epochs?\b/, plural(e, 'epoch')).replace(/\(teachers \d+\)/, `(teachers ${t})`);
    } else {
      text = text.replace(/\b\d+ epochs?\b/, Number.isFinite(t) && t !== e ? `${plural(e, 'epoch')} (teachers ${t})` : plural(e, 'epoch'));
    }
    // the learning-rate milestones are fractions of the epochs (CRD's 150/180/210 of 240)
    if (epochs !== undefined) text = text.replace(/x0\.1 at 150\/180\/210\b/, 'x0.1 at 62.5/75/87.5%');
  }
  const trainPerClass = get('trainPerClass');
  if (trainPerClass !== undefined) {
    text = /\b\d+ train\b/.test(text) ? text.replace(/\b\d+ train\b/, `${trainPerClass} train`)
      : text.replace(/\bfull data\b|\ball train images\b/, `${trainPerClass} train images/class`);
  }
  const replacements: [string, RegExp, (v: string) => string][] = [
    ['evalPerClass', /\+ \d+ eval\b/, (v) => `+ ${v} eval`],
    ['holdoutPerClass', /\b\d+\/class holdout\b/, (v) => `${v}/class holdout`],
    ['widthFactor', /\bwidths x[\d.]+|\bfull widths\b/, (v) => `widths x${v}`],
    ['batchSize', /\bbatch \d+\b/, (v) => `batch ${v}`],
    ['lr', /\blr [\d.e-]+(?= )/, (v) => `lr ${v}`],
  ];
  for (const [key, pattern, phrase] of replacements) {
    const v = get(key);
    if (v !== undefined) text = text.replace(pattern, phrase(v));
  }
  return `${text} [overrides: ${m[2]}]`;
}
