/**
 * Published names -> kdbench ids, in one place: model names as the papers print them
 * ('ResNet8', 'WRN-40-2', 'ShuffleV1', 'resnet32x4') and method names ('KD', 'CRD+KD', 'Student').
 * Names that kdbench's zoo has no counterpart for ('ResNet32+ONE', 'student ensemble': the online
 * methods' own ensembles) map to null and are shown unmatched.
 */

/** Published model names that no pattern below covers. */
const MODEL_IDS: Record<string, string> = {
  // IRG's half-width student: a width multiplier on the zoo's resnet20
  'ResNet20-x0.5': 'resnet20@0.5',
  // MobileNet v1 (Howard et al. 2017), as the DML and DCM rows use it
  MobileNet: 'mobilenetv1',
  // DenseNet-40 with growth rate 12 (Huang et al. 2017): the PCL rows and both Xu and Liu 2019 rows
  'DenseNet-40-12': 'densenet40_12',
  DenseNet40: 'densenet40_12',
  DenseNet: 'densenet40_12',
  ResNeXt29: 'resnext29_8x64d',
  'ResNeXt50-4': 'resnext50_32x4d',
  'plain-CNN-18': 'plaincnn18',
  'plain-CNN-34': 'plaincnn34',
  AlexNet: 'alexnet',
};

/** kdbench model id for a published model name, or null when the name has no counterpart. */
export function modelId(name: string): string | null {
  const s = name.trim();
  if (s in MODEL_IDS) return MODEL_IDS[s]!;
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
  // Gao et al. 2021 (residual KD) is not Park et al.'s RKD, and kdbench has no implementation of it.
  'RKD (residual)': null,
  // Xu and Liu 2019, data-distortion guided self-distillation
  'Xu and Liu 2019': 'ddgsd',
  'AE-KD': 'aekd',
  'PAD-L2': 'padl2',
  'Rocket-KD': 'rocket',
  // Yang et al. 2019, snapshot distillation ("SD" in the survey's tables)
  SD: 'snapshot',
  // Yuan et al. 2020: the self-teacher form is what the tables report
  'Tf-KD': 'tfkdself',
  'CS-KD': 'cskd',
  DeepInversion: 'deepinv',
  'Born-again': 'ban',
  BAN: 'ban',
};

/**
 * Published labels that name a kdbench method in a setting other than its defaults: the rows match
 * measured rows run with those hyperparameters only (and the default rows do not match them).
 */
const METHOD_SETTINGS: Record<string, { id: string; hyperparameters: Record<string, number | string> }> = {
  // HKD's Table 1: HKD with the KD term (train_student.py's -a 1; scripts/run_cifar_distill.sh "# HKD+KD")
  'HKD+KD': { id: 'hkd', hyperparameters: { alpha: 1 } },
};

/** The hyperparameters a published label's row ran with beyond its method's defaults, or null (the defaults). */
export function methodSetting(label: string): Record<string, number | string> | null {
  return METHOD_SETTINGS[label.trim()]?.hyperparameters ?? null;
}

/** kdbench method id for a published method label (lowercased label when not listed), or null. */
export function methodId(label: string): string | null {
  const s = label.trim();
  if (s in METHOD_IDS) return METHOD_IDS[s]!;
  if (s in METHOD_SETTINGS) return METHOD_SETTINGS[s]!.id;
  // 'AT+KD', 'PKT+KD': a method with KD added (HKD's table); kdbench runs no such combination as one id
  if (/\+KD$/.test(s)) return null;
  const id = s.toLowerCase();
  return /^[a-z][a-z0-9_+-]*$/.test(id) ? id : null;
}
