/**
 * The model zoo: the CRD benchmark's nets (Tian et al., "Contrastive Representation Distillation",
 * ICLR 2020; RepDistiller) and the CIFAR nets of the survey's comparison tables (Gou et al.,
 * IJCV 2021, Tables 5 and 6), with ids, descriptions, published counts, createModel and listModels.
 *
 * A model id may carry a width multiplier: `resnet20@0.5` is resnet20 with every channel count
 * halved (IRG's "ResNet20-x0.5"), on top of the options' widthFactor.
 */
import type { Model, ModelOptions, ModelSpec, NamedVariable } from './types.js';
import { MAX_WIDTH, ZooModel, measureNet, validateOptions, type ModelCounts, type NetBuilder } from './models/base.js';
import { resnetBuilders } from './models/resnet.js';
import { imagenetResNetBuilders } from './models/resnet-imagenet.js';
import { resnextBuilders } from './models/resnext.js';
import { wrnBuilders } from './models/wrn.js';
import { densenetBuilders } from './models/densenet.js';
import { vggBuilders } from './models/vgg.js';
import { alexnetBuilders } from './models/alexnet.js';
import { mobilenetv1Builders } from './models/mobilenetv1.js';
import { mobilenetv2Builders } from './models/mobilenetv2.js';
import { shufflenetv1Builders } from './models/shufflenetv1.js';
import { shufflenetv2Builders } from './models/shufflenetv2.js';
import { PUBLISHED } from './published.js';

type Family = ModelSpec['family'];

/** id, family, description, builder; published counts come from published.ts. */
const NETS: [string, Family, string, NetBuilder][] = [
  ...([8, 14, 20, 26, 32, 44, 56, 110] as const).map((depth): [string, Family, string, NetBuilder] => [
    `resnet${depth}`, 'resnet', `CIFAR ResNet-${depth}: basic blocks, widths 16/32/64, 1x1-conv projection shortcuts`, resnetBuilders[`resnet${depth}`]!,
  ]),
  ['resnet8x4', 'resnet', 'CIFAR ResNet-8 with 4x widths: stem 32, stages 64/128/256', resnetBuilders['resnet8x4']!],
  ['resnet32x4', 'resnet', 'CIFAR ResNet-32 with 4x widths: stem 32, stages 64/128/256', resnetBuilders['resnet32x4']!],
  ...([[18, 'basic blocks 2/2/2/2'], [34, 'basic blocks 3/4/6/3'], [50, 'bottlenecks 3/4/6/3'], [152, 'bottlenecks 3/8/36/3']] as const)
    .map(([depth, blocks]): [string, Family, string, NetBuilder] => [
      `resnet${depth}`, 'imagenet-resnet', `ResNet-${depth} with a 3x3 CIFAR stem (kuangliu/RepDistiller resnetv2): ${blocks}, widths 64-512`,
      imagenetResNetBuilders[`resnet${depth}`]!,
    ]),
  ['resnext50_32x4d', 'resnext', 'ResNeXt-50 (32x4d) with a 3x3 CIFAR stem: grouped bottlenecks 3/4/6/3 (TOFD\'s ResNeXt50-4)', imagenetResNetBuilders['resnext50_32x4d']!],
  ['resnext29_8x64d', 'resnext', 'CIFAR ResNeXt-29 (8x64d): 3 stages of 3 grouped bottlenecks, outputs 256/512/1024', resnextBuilders['resnext29_8x64d']!],
  ['plaincnn18', 'plaincnn', 'ResNet-18 (3x3 stem) without shortcuts: JointRD\'s plain-CNN-18', imagenetResNetBuilders['plaincnn18']!],
  ['plaincnn34', 'plaincnn', 'ResNet-34 (3x3 stem) without shortcuts: JointRD\'s plain-CNN-34', imagenetResNetBuilders['plaincnn34']!],
  ...([[16, 1], [16, 2], [40, 1], [40, 2], [16, 4], [16, 8], [28, 2], [28, 4], [28, 10], [40, 4]] as const)
    .map(([d, k]): [string, Family, string, NetBuilder] => [
      `wrn_${d}_${k}`, 'wrn', `Wide ResNet-${d}-${k} (pre-activation, dropout 0)`, wrnBuilders[`wrn_${d}_${k}`]!,
    ]),
  ['densenet40_12', 'densenet', 'DenseNet (L=40, k=12): no bottleneck or compression, 16-channel stem', densenetBuilders['densenet40_12']!],
  ...(['vgg8', 'vgg11', 'vgg13', 'vgg16'] as const).map((id): [string, Family, string, NetBuilder] => [
    id, 'vgg', `CIFAR ${id.toUpperCase()} with batch norm, linear head on 512`, vggBuilders[id]!,
  ]),
  ['alexnet', 'alexnet', 'CIFAR AlexNet (bearpaw): five convs, no batch norm, linear head on 256', alexnetBuilders['alexnet']!],
  ['mobilenetv1', 'mobilenetv1', 'CIFAR MobileNet (v1) of DML/DCM: 13 separable blocks at 32/16/8 pixels, head on 1024', mobilenetv1Builders['mobilenetv1']!],
  ['mobilenetv2', 'mobilenetv2', 'CIFAR MobileNetV2, expansion 6, width multiplier 0.5 (RepDistiller mobile_half)', mobilenetv2Builders['mobilenetv2']!],
  ['shufflenetv1', 'shufflenetv1', 'CIFAR ShuffleNetV1, 3 groups, stages 240/480/960', shufflenetv1Builders['shufflenetv1']!],
  ['shufflenetv2', 'shufflenetv2', 'CIFAR ShuffleNetV2 1x, stages 116/232/464, head 1024', shufflenetv2Builders['shufflenetv2']!],
];

interface Entry {
  spec: ModelSpec;
  builder: NetBuilder;
}

const ENTRIES: Entry[] = NETS.map(([id, family, description, builder]) => {
  if (!builder) throw new Error(`zoo: no builder for '${id}'`);
  const published = PUBLISHED[id];
  return {
    spec: {
      id, family, description,
      ...(published?.params ? { publishedParams: published.params } : {}),
      ...(published?.macs ? { publishedMacs: published.macs } : {}),
    },
    builder,
  };
});

const BY_ID = new Map(ENTRIES.map((e) => [e.spec.id, e]));

export function listModels(): ModelSpec[] {
  return ENTRIES.map((e) => e.spec);
}

/** A model id split into the zoo id and its width multiplier (1 without `@`). */
export interface ModelIdParts {
  readonly base: string;
  readonly width: number;
}

/**
 * What is wrong with a model id, as one sentence naming it (and `role`, e.g. 'student', if given),
 * or null when createModel accepts it. A multiplier must be written in its shortest decimal form
 * and not be 1, so that one network has one id (run ids hash the id).
 */
export function modelIdProblem(id: string, role?: string): string | null {
  const named = `'${id}'${role ? ` (${role})` : ''}`;
  const at = id.indexOf('@');
  const base = at < 0 ? id : id.slice(0, at);
  if (!BY_ID.has(base)) {
    return `unknown model ${named}. Known models: ${[...BY_ID.keys()].join(', ')} (append @<width multiplier> to scale a model's channels, e.g. resnet20@0.5)`;
  }
  if (at < 0) return null;
  const text = id.slice(at + 1);
  const width = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || String(width) !== text || !(width > 0 && width <= MAX_WIDTH)) {
    return `model ${named}: the width multiplier after '@' must be a number in (0, ${MAX_WIDTH}] written in its shortest form, e.g. ${base}@0.5`;
  }
  if (width === 1) return `model ${named}: a width multiplier of 1 is the model itself; write '${base}'`;
  return null;
}

/** Splits a model id into zoo id and width multiplier; throws an Error saying what is wrong with a bad one. */
export function parseModelId(id: string): ModelIdParts {
  const problem = modelIdProblem(id);
  if (problem) throw new Error(problem);
  const at = id.indexOf('@');
  return at < 0 ? { base: id, width: 1 } : { base: id.slice(0, at), width: Number(id.slice(at + 1)) };
}

/** The checked options, the builder and the width to build at for a model id. */
function resolve(id: string, opts: ModelOptions) {
  const { base, width } = parseModelId(id);
  const options = validateOptions(id, opts);
  const buildWidth = options.widthFactor * width;
  if (buildWidth > MAX_WIDTH) {
    throw new Error(`createModel('${id}'): widthFactor ${options.widthFactor} x multiplier ${width} = ${buildWidth} exceeds ${MAX_WIDTH}`);
  }
  return { options, builder: BY_ID.get(base)!.builder, buildWidth };
}

/**
 * A zoo network. `shared`: variables of another network that this one reuses instead of creating
 * its own, matched by name and shape (layers shared between two networks, as Rocket-KD's booster
 * and light net share their lower convs); this network lists and counts them but never frees them.
 */
export function createModel(id: string, opts: ModelOptions, shared: readonly NamedVariable[] = []): Model {
  const { options, builder, buildWidth } = resolve(id, opts);
  return new ZooModel(id, options, builder, buildWidth, shared);
}

/**
 * Parameters, MACs and feature shapes of the model createModel(id, opts) would build, without
 * drawing or allocating its weights: instant even for the 58M-parameter resnet152.
 */
export function modelCounts(id: string, opts: ModelOptions): ModelCounts {
  const { options, builder, buildWidth } = resolve(id, opts);
  return measureNet(options, builder, buildWidth);
}
