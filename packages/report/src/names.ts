/**
 * Published names -> kdbench ids, in one place: model names as the papers print them
 * ('ResNet8', 'WRN-40-2', 'ShuffleV1', 'resnet32x4') and method names ('KD', 'CRD+KD', 'Student').
 * Names that kdbench's zoo has no counterpart for ('ResNet20-x0.5', 'MobileNet', 'ResNet32+ONE',
 * 'student ensemble') map to null and are shown unmatched.
 */

/** kdbench model id for a published model name, or null when the name has no counterpart. */
export function modelId(name: string): string | null {
  const s = name.trim();
  let m = /^resnet[-_ ]?(\d+)(x4)?$/i.exec(s);
  if (m) return `resnet${m[1]}${m[2] ? 'x4' : ''}`;
  m = /^wrn[-_ ](\d+)[-_](\d+)$/i.exec(s);
  if (m) return `wrn_${m[1]}_${m[2]}`;
  m = /^vgg[-_ ]?(\d+)$/i.exec(s);
  if (m) return `vgg${m[1]}`;
  if (/^mobilenet[-_ ]?v2$/i.test(s)) return 'mobilenetv2';
  m = /^shuffle(?:net)?[-_ ]?v([12])$/i.exec(s);
  if (m) return `shufflenetv${m[1]}`;
  return null;
}

/** Published method labels whose kdbench id is not simply the lowercased label. */
const METHOD_IDS: Record<string, string | null> = {
  Student: 'vanilla',
  Teacher: null,
  'CRD+KD': 'crdkd',
  // Peng et al. 2019a, "Correlation Congruence for Knowledge Distillation": kdbench's `cc`.
  CCKD: 'cc',
  // Gao et al. 2021 (residual KD) is not Park et al.'s RKD.
  'RKD (residual)': null,
  'Xu and Liu 2019': null,
  // Yang et al. 2019, snapshot distillation ("SD" in the survey's tables)
  SD: 'snapshot',
  // Yuan et al. 2020: the self-teacher form is what the tables report
  'Tf-KD': 'tfkdself',
  'CS-KD': 'cskd',
  DeepInversion: 'deepinv',
  'Born-again': 'ban',
  BAN: 'ban',
};

/** kdbench method id for a published method label (lowercased label when not listed), or null. */
export function methodId(label: string): string | null {
  const s = label.trim();
  if (s in METHOD_IDS) return METHOD_IDS[s]!;
  const id = s.toLowerCase();
  return /^[a-z][a-z0-9_+-]*$/.test(id) ? id : null;
}
